// PostgreSQL for tests: the database npm test provides (SWARM_TEST_DATABASE_URL), and a fresh
// schema per test, dropped after it; or a cluster of a test's own.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ROOT } from './paths.js';

export function testDatabaseUrl(): string {
  const url = process.env.SWARM_TEST_DATABASE_URL;
  if (url === undefined || url === '') {
    throw new Error('SWARM_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts a throwaway PostgreSQL');
  }
  return url;
}

/** A schema name of this test's own; dropped with everything in it when the test ends. */
export function testSchema(t: TestContext, prefix = 'swarm_t'): string {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  t.after(async () => {
    const c = new pg.Client({ connectionString: testDatabaseUrl() });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await c.end();
    }
  });
  return schema;
}

export async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: testDatabaseUrl() });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export interface OwnPostgres {
  url: string;
  port: number;
  version: string;
  /** The cluster's directory (data/ holds postmaster.pid). */
  dir: string;
  /** Synchronous and idempotent; also run when the test process exits. */
  stop(): void;
}

/**
 * A throwaway PostgreSQL cluster of the caller's own (scripts/postgres.mjs, as npm test starts),
 * for a test that counts the server's connections or puts a pooler in front of it.
 */
export async function ownPostgres(o: { maxConnections?: number; durable?: boolean } = {}): Promise<OwnPostgres> {
  // scripts/ is plain JavaScript outside the compiled tree: loaded by URL, typed here.
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'postgres.mjs')).href)) as { startThrowawayPostgres(o: { maxConnections?: number; durable?: boolean }): Promise<OwnPostgres> };
  const cluster = await mod.startThrowawayPostgres(o);
  process.once('exit', cluster.stop);
  return cluster;
}
