// Applies numbered migrations in order, each in its own transaction, recording each in the
// `schema_migrations` ledger. A database whose ledger knows a version this code does not is
// refused: running old code on a newer schema corrupts data quietly.
import type Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { loadMigrations, type Migration } from '../sql-files.js';

export const MIGRATIONS_DIR = new URL('migrations/', import.meta.url);

export function migrate(db: Database.Database, migrations: Migration[] = loadMigrations(MIGRATIONS_DIR)): { current: number; latest: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const newest = Math.max(0, ...applied);
  if (newest > latest) {
    throw new HubError(
      'schema_too_new',
      `the database schema is at version ${newest}, newer than this swarm knows (${latest}): upgrade swarm, or restore a backup made by this version`,
      { details: { current: newest, latest } },
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
  }
  return { current: Math.max(newest, latest), latest };
}
