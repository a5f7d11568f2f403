// Applies numbered migrations to the store's schema, recording each in the `schema_migrations`
// ledger, all pending ones in one transaction. Several processes may start at once against an
// empty database (api replicas, workers): every migrator takes the same transaction-scoped
// advisory lock first, so exactly one applies the migrations and the others then find them in
// the ledger. The lock is database-wide, not per schema, because a migration may create an
// extension, which is database-wide too. A ledger that knows a version this code does not is
// refused: running old code on a newer schema corrupts data quietly.
import type pg from 'pg';
import { HubError } from '../../errors.js';
import type { SchemaInfo } from '../store.js';
import { loadMigrations, type Migration } from '../sql-files.js';

/** pg_advisory_xact_lock key: the first 8 bytes of sha256('swarm.migrate'), as a signed bigint. */
const MIGRATE_LOCK = '-1461389326454257186';

export const MIGRATIONS_DIR = new URL('migrations/', import.meta.url);

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function tooNew(current: number, latest: number): HubError {
  return new HubError(
    'schema_too_new',
    `the database schema is at version ${current}, newer than this swarm knows (${latest}): upgrade swarm, or restore a backup made by this version`,
    { details: { current, latest } },
  );
}

/** Whether `schema` (null: the connection's current one) holds a hub's tables: its migration ledger exists. Reads only. */
export async function holdsHub(client: pg.ClientBase, schema: string | null): Promise<boolean> {
  const r = await client.query<{ t: string | null }>("SELECT to_regclass(format('%I.schema_migrations', COALESCE($1::text, current_schema()))) AS t", [schema]);
  return r.rows[0]?.t != null;
}

/**
 * Migrates `schema` (created if missing; null: the connection's current schema) on one connection.
 * The search_path is set for this transaction only (SET LOCAL), so the connection can be a pooled
 * one shared through PgBouncer in transaction mode.
 */
export async function migrate(client: pg.ClientBase, schema: string | null, migrations: Migration[] = loadMigrations(MIGRATIONS_DIR)): Promise<SchemaInfo> {
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATE_LOCK]);
    if (schema !== null) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}, public`);
    }
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > latest) throw tooNew(newest, latest);
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    await client.query('COMMIT');
    return { current: Math.max(newest, latest), latest };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The ledger as it is now (another process may have migrated since this one started). */
export async function schemaInfo(client: pg.Pool | pg.ClientBase, schema: string, latest: number): Promise<SchemaInfo> {
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoteIdent(schema)}.schema_migrations`);
  return { current: r.rows[0]?.v ?? 0, latest };
}
