// PostgreSQL for tests: the database npm test provides (SWARM_TEST_DATABASE_URL), and a fresh
// schema per test, dropped after it.
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

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
