// The connection pool of the PostgreSQL adapter: one pool per store, no session state on its
// connections (SQL names its schema, qualify.ts; so PgBouncer in transaction mode can sit between),
// rows decoded the way the shared row mapping (../rows.ts) reads
// SQLite's: BIGINT as a JavaScript number (times in ms and sequence numbers stay far below 2^53),
// JSON and JSONB as their text. The Connection below is what the store's resource modules share:
// the pool on a migrated schema, its named queries, and the directory cache.
import pg from 'pg';
import { HubError } from '../../errors.js';
import { loadMigrations, loadQueryDir } from '../sql-files.js';
import type { SchemaInfo } from '../store.js';
import { DirectoryCache } from './directory.js';
import { holdsHub, migrate, MIGRATIONS_DIR, schemaInfo } from './migrate.js';
import { qualifyAll } from './qualify.js';

/**
 * The runtime queries, one file per resource, one `-- name:` section per query (sql-files.ts
 * loadQueryDir), run as named prepared statements with positional parameters. Message rows are
 * selected with the same column list everywhere (never m.*: it would carry the search vector
 * along), and inbox rows add the delivery columns as d_*, so that rows map to domain objects like
 * SQLite's (rows.ts). Lists of values arrive as arrays and are expanded with unnest().
 */
export const QUERIES_DIR = new URL('queries/', import.meta.url);

const QUERIES = loadQueryDir(QUERIES_DIR);
const LATEST = loadMigrations(MIGRATIONS_DIR).reduce((m, x) => Math.max(m, x.version), 0);

const { types } = pg;

const decodeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === types.builtins.INT8) return (v: string) => Number(v);
    if (oid === types.builtins.JSON || oid === types.builtins.JSONB) return (v: string) => v;
    return types.getTypeParser(oid, format as 'text');
  }) as typeof types.getTypeParser,
};

export interface PoolOptions {
  url: string;
  size: number;
}

/**
 * Errors a connection raised as it died (its socket ended or failed, or the server ended the
 * session): pg emits them as the client's 'error' event, then fails the client's queries with the
 * same object on the next tick. Remembered here so that storeError can tell a lost connection from
 * a bug without reading the message, which is all such an error carries.
 */
const connectionFailures = new WeakSet<object>();

export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: o.url, max: o.size, types: decodeTypes, connectionTimeoutMillis: 10_000 });
  // Every connection listens for its own failure for its whole life. The pool listens only while a
  // connection is idle: one checked out for a transaction (pool.connect()) when PostgreSQL restarts
  // emitted 'error' with no listener, which ended the hub process.
  pool.on('connect', (client) => client.on('error', (e: Error) => connectionFailures.add(e)));
  // An idle connection that breaks (server restart, network) is dropped by the pool; the next
  // query opens a new one. Without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database';
  }
}

const NODE_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * A named statement this connection prepared is missing (26000), or one of that name exists that
 * it did not prepare (42P05): the connection is a pooler's in transaction mode, which hands each
 * transaction whichever server connection is free (PgBouncer before 1.21 does not follow named
 * statements). Worse than failing, a statement of the same name prepared by another version of the
 * hub could run instead, so this is a configuration error, not a passing one.
 */
const PREPARED_ELSEWHERE = new Set(['26000', '42P05']);

/**
 * Connection failures (SQLSTATE class 08, server shutting down 57P01-57P03, socket errors, and a
 * connection that ended mid-query, which pg reports without a code) become `store_unavailable`;
 * named statements lost behind a pooler `config_invalid`; anything else is returned as it is.
 */
export function storeError(e: unknown): unknown {
  if (e instanceof HubError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && PREPARED_ELSEWHERE.has(code)) {
    return new HubError(
      'config_invalid',
      `${e.message}: store.database looks like a pooler in transaction mode (such as PgBouncer), which does not keep named statements; set store.prepare to false (SWARM_DB_PREPARE=false)`,
      { cause: e },
    );
  }
  // 22021: a NUL character (or bad UTF-8) in a text value, which PostgreSQL cannot store and SQLite
  // can: the caller's input, refused here for every statement rather than in each method (nul.ts
  // keeps its per-send check so that one bad send does not fail the others of its batch).
  if (code === '22021') return new HubError('validation_failed', `a text value holds a character PostgreSQL cannot store (NUL): ${e.message}`, { cause: e });
  const lost = connectionFailures.has(e) || (typeof code === 'string' && (code.startsWith('08') || /^57P0[123]$/.test(code) || NODE_CONNECTION_ERRORS.has(code)));
  return lost ? new HubError('store_unavailable', `PostgreSQL is unreachable: ${e.message}`, { cause: e }) : e;
}

export type Queryable = pg.Pool | pg.PoolClient;

export interface ConnectionOptions {
  url: string;
  /** Tables live in this schema (created when missing); null: the connection's own search_path. */
  schema: string | null;
  poolSize: number;
  /** Named prepared statements (PostgresStoreOptions.prepare). */
  prepare: boolean;
  /** Only a schema a hub already made (PostgresStoreOptions.existing). */
  existing?: boolean | undefined;
}

export class Connection {
  closed = false;
  /** Agents and tokens as this process last read them (directory.ts). */
  readonly directory: DirectoryCache;
  /** Every query by name, qualified with the store's schema (qualify.ts). */
  private readonly queries: Record<string, string>;

  private constructor(
    readonly pool: pg.Pool,
    /** The schema the queries name (the one given, or the connection's current schema). */
    readonly tables: string,
    private readonly prepare: boolean,
  ) {
    this.queries = qualifyAll(QUERIES, tables);
    this.directory = new DirectoryCache(async () => (await this.rows<{ version: number }>('directoryVersion', []))[0]?.version ?? 0);
  }

  /** Connects and migrates the schema (refusing a newer one with `schema_too_new`). */
  static async open(o: ConnectionOptions): Promise<Connection> {
    const pool = createPool({ url: o.url, size: o.poolSize });
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new HubError('store_unavailable', `cannot connect to PostgreSQL at ${redactUrl(o.url)}: ${(e as Error).message}`, { cause: e });
    }
    let tables: string;
    try {
      if (o.existing === true && !(await holdsHub(client, o.schema))) {
        throw new HubError('config_invalid', `no hub in ${o.schema === null ? 'the current schema' : `schema ${o.schema}`} of ${redactUrl(o.url)} (no schema_migrations table): check store.database and store.schema (SWARM_DATABASE, SWARM_DB_SCHEMA)`);
      }
      await migrate(client, o.schema);
      tables = o.schema ?? (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s ?? '';
      if (tables === '') throw new HubError('config_invalid', 'the connection has no current schema (empty search_path): set store.schema');
      client.release();
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (e instanceof HubError) throw e;
      throw new HubError('store_unavailable', `cannot prepare the schema${o.schema === null ? '' : ` ${o.schema}`}: ${(e as Error).message}`, { cause: e });
    }
    return new Connection(pool, tables, o.prepare);
  }

  /** Runs a named query: a prepared statement (once per pooled connection) unless `prepare` is off. */
  async q<R extends pg.QueryResultRow>(name: string, values: unknown[], on: Queryable = this.pool): Promise<pg.QueryResult<R>> {
    const text = this.queries[name];
    if (text === undefined) throw new HubError('internal', `no query named ${name}`);
    try {
      return await on.query<R>(this.prepare ? { name, text, values } : { text, values });
    } catch (e) {
      throw storeError(e);
    }
  }

  async rows<R extends pg.QueryResultRow>(name: string, values: unknown[], on?: Queryable): Promise<R[]> {
    return (await this.q<R>(name, values, on)).rows;
  }

  /**
   * One transaction on one pooled connection. `relaxed`: the commit does not wait for its WAL to
   * reach disk (synchronous_commit off for this transaction only). For hand-outs alone: a lease
   * lost in a database crash only means the delivery is handed out again, which at-least-once
   * delivery allows; sends and acks stay durable.
   */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, relaxed = false): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw new HubError('store_unavailable', `PostgreSQL is unreachable: ${(e as Error).message}`, { cause: e });
    }
    let broken = false;
    try {
      await c.query(relaxed ? 'BEGIN; SET LOCAL synchronous_commit TO off' : 'BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw storeError(e);
    } finally {
      c.release(broken);
    }
  }

  live(): void {
    if (this.closed) throw new HubError('store_unavailable', 'the store is closed');
  }

  async ping(): Promise<void> {
    this.live();
    try {
      await this.pool.query('SELECT 1');
    } catch (e) {
      throw storeError(e);
    }
  }

  async schema(): Promise<SchemaInfo> {
    this.live();
    try {
      return await schemaInfo(this.pool, this.tables, LATEST);
    } catch (e) {
      throw storeError(e);
    }
  }
}
