// `swarm serve --migrate-only`, what the Kubernetes Job swarm-migrate runs before a rollout
// (deploy/k8s): it applies the store's migrations, prints the schema version and exits 0, without
// serving or minting an admin token. Several at once on one PostgreSQL apply them once between
// them (the advisory lock); a schema newer than the code, a malformed URL and a database that is
// not there are refused with their documented exit codes, and nothing is changed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { runCli } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { okJson, refused } from './helpers.js';

/** The migrations this swarm ships: the highest numbered file. */
function latestMigration(): number {
  const dir = join(import.meta.dirname, '..', '..', 'src', 'store', 'postgres', 'migrations');
  return Math.max(...readdirSync(dir).map((f) => Number(/^(\d+)_/.exec(f)?.[1] ?? 0)));
}

interface Ledger {
  version: number;
  applied_at: string;
}

const ledger = (schema: string): Promise<Ledger[]> => query<Ledger>(`SELECT version, applied_at::text FROM "${schema}".schema_migrations ORDER BY version`);
const tables = (schema: string): Promise<string[]> =>
  query<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]).then((r) => r.map((x) => x.t));
const schemaExists = async (schema: string): Promise<boolean> => (await query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).length === 1;

function migrateOnly(env: Record<string, string>, extra: string[] = []): ReturnType<typeof runCli> {
  // Its own empty working directory: nothing of a swarm.yaml or an admin.token around it.
  return runCli(['serve', '--migrate-only', ...extra], { env, cwd: tempDir(), timeoutMs: 60_000 });
}

describe('swarm serve --migrate-only', () => {
  const latest = latestMigration();

  it('applies every migration to an empty PostgreSQL schema once, also when three run at once, and mints nothing', { timeout: 120_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_migonly');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    const runs = await Promise.all([1, 2, 3].map(() => migrateOnly(env, ['--json'])));
    for (const r of runs) assert.deepEqual(okJson(r), { current: latest, latest });
    const first = await ledger(schema);
    assert.deepEqual(first.map((l) => l.version), Array.from({ length: latest }, (_, i) => i + 1), 'each migration recorded once');
    assert.equal((await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".agents`))[0]?.n, 0, 'no admin identity: nothing is served or minted');

    // Again on the migrated schema: nothing to apply, the ledger untouched; the human line says the version.
    const again = await migrateOnly(env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `schema version ${latest} (the latest this swarm knows: ${latest})\n`);
    assert.deepEqual(await ledger(schema), first);
  });

  it('refuses a schema newer than this swarm (exit 10), a malformed URL (exit 9) and a missing database (exit 8), changing nothing', { timeout: 120_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_migonly_bad');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    assert.equal((await migrateOnly(env)).code, 0);
    // A later version of swarm migrated this database: this one must not run on it.
    await query(`INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', 0)`, [latest + 1]);
    const before = { ledger: await ledger(schema), tables: await tables(schema) };
    const newer = refused(await migrateOnly(env), 10, 'schema_too_new');
    assert.match(newer, new RegExp(`version ${latest + 1}, newer than this swarm knows \\(${latest}\\)`));
    assert.deepEqual({ ledger: await ledger(schema), tables: await tables(schema) }, before, 'the ledger and the tables are as they were');

    const fresh = `${schema}_untouched`;
    t.after(() => query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`));
    const malformed = refused(await migrateOnly({ ...env, SWARM_DB_SCHEMA: fresh, SWARM_DATABASE: 'mysql://swarm@db.internal/swarm' }), 9, 'config_invalid');
    assert.match(malformed, /store\.database must be empty, sqlite:DIR or a postgres:\/\/ URL/);
    const missing = new URL(testDatabaseUrl());
    missing.pathname = `/no_such_db_${schema}`;
    const absent = refused(await migrateOnly({ ...env, SWARM_DB_SCHEMA: fresh, SWARM_DATABASE: missing.href }), 8, 'store_unavailable');
    assert.match(absent, /cannot connect to PostgreSQL/);
    assert.equal(await schemaExists(fresh), false, 'no schema was created by the refused runs');
  });

  it('migrates an embedded store in its data directory and writes no admin token', { timeout: 60_000 }, async () => {
    const data = join(tempDir(), '.swarm');
    const r = await migrateOnly({}, ['--data', data, '--json']);
    const doc = okJson(r) as { current: number; latest: number };
    assert.ok(doc.current > 0 && doc.current === doc.latest, JSON.stringify(doc));
    assert.ok(existsSync(join(data, 'swarm.db')), 'the store was created');
    assert.equal(existsSync(join(data, 'admin.token')), false, 'no admin token minted');
  });
});
