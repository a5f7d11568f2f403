// Which store the hub under test runs on. The HTTP, stream, security and crash suites run once per
// store: `npm test` (scripts/test.mjs) runs them with SWARM_TEST_STORE unset (SQLite), then again
// with SWARM_TEST_STORE=postgres. Everything those tests need to know about the store is here:
// where one test's data lives, how to open it in this process, how to point a `swarm serve` at it,
// and how to read (or tamper with) its tables directly.
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { testDatabaseUrl, testSchema } from './postgres.js';
import { tempDir } from './temp.js';

export type StoreKind = 'sqlite' | 'postgres';

/** SWARM_TEST_STORE: `sqlite` (also when unset) or `postgres`; anything else is a mistake, not SQLite. */
export function storeKind(): StoreKind {
  const v = process.env.SWARM_TEST_STORE ?? '';
  if (v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'postgres') return 'postgres';
  throw new Error(`SWARM_TEST_STORE must be sqlite or postgres, not ${JSON.stringify(v)}`);
}

/**
 * One test's store: its own data directory (the admin token lives there on both stores) and, on
 * PostgreSQL, its own schema in SWARM_TEST_DATABASE_URL, dropped when the test ends.
 */
export interface TestStore {
  kind: StoreKind;
  dir: string;
  schema: string | null;
}

export function testStore(t: TestContext, dir = tempDir()): TestStore {
  const kind = storeKind();
  return { kind, dir, schema: kind === 'postgres' ? testSchema(t) : null };
}

/** Opens the store in this process; the caller closes it. */
export async function openTestStore(s: TestStore, synchronous: 'full' | 'normal' = 'normal'): Promise<Store> {
  if (s.kind === 'sqlite') return new SqliteStore({ dir: s.dir, synchronous });
  return PostgresStore.open({ url: testDatabaseUrl(), schema: schemaOf(s) });
}

/**
 * What `swarm serve` (spawnHub, or runCli(['serve', …])) needs to run on the store, besides
 * `--data`. `serve` has no schema flag: store.schema comes from its environment variable.
 */
export function serveOn(s: TestStore): { args: string[]; env: Record<string, string> } {
  if (s.kind === 'sqlite') return { args: [], env: {} };
  return { args: ['--database', testDatabaseUrl()], env: { SWARM_DB_SCHEMA: schemaOf(s) } };
}

function schemaOf(s: TestStore): string {
  if (s.schema === null) throw new Error('a PostgreSQL test store without a schema');
  return s.schema;
}

/** BIGINT (counts, times, sequence numbers) as a number, as both adapters read it. */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

async function withPg<T>(s: TestStore, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: testDatabaseUrl(), types: pgTypes });
  await c.connect();
  try {
    await c.query(`SET search_path TO "${schemaOf(s)}", public`);
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** `?` placeholders, as SQLite writes them, numbered for PostgreSQL (no `?` inside literals here). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Rows of a read-only query over the store's tables, in SQL both dialects understand. */
export async function storeRows<T>(s: TestStore, sql: string, params: unknown[] = []): Promise<T[]> {
  if (s.kind === 'postgres') return withPg(s, async (c) => (await c.query(numbered(sql), params)).rows as T[]);
  const db = new Database(join(s.dir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Runs a statement (a schema change, say) on the store's database, beside the hub's own connections. */
export async function storeExec(s: TestStore, sql: string): Promise<void> {
  if (s.kind === 'postgres') {
    await withPg(s, async (c) => {
      await c.query(sql);
    });
    return;
  }
  const db = new Database(join(s.dir, 'swarm.db'));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Changes a stopped hub's tables directly, as an intruder with database access would: each statement must change one row. */
export async function storeTamper(s: TestStore, statements: { sql: string; params?: unknown[] }[]): Promise<void> {
  if (s.kind === 'postgres') {
    await withPg(s, async (c) => {
      for (const { sql, params = [] } of statements) if ((await c.query(numbered(sql), params)).rowCount !== 1) throw new Error(`changed no single row: ${sql}`);
    });
    return;
  }
  const db = new Database(join(s.dir, 'swarm.db'));
  try {
    for (const { sql, params = [] } of statements) if (db.prepare(sql).run(...params).changes !== 1) throw new Error(`changed no single row: ${sql}`);
  } finally {
    db.close();
  }
}
