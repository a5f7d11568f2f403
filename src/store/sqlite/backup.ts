// Backups of the embedded store (docs/operations.md, "Backups"). `create` runs in the hub:
// SqliteStore.backup copies a consistent snapshot (`VACUUM INTO`, committed WAL content included)
// on a connection of its own in a worker thread, while sends go on (WAL readers do not block the
// writer thread). `verify` and `restore` need no hub: they work on the copy, never on a live file.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type ErrorCode, HubError } from '../../errors.js';
import { type BackupManifest, MANIFEST_FORMAT, newBackupId, readManifest, writeManifest } from '../backup-manifest.js';
import { checkSha256, failsVerification, proveCopy, sha256Of, type VerifyReport } from '../backup-proof.js';
import { TABLES } from '../transfer.js';
import { isLocked } from './dir-lock.js';
import { DB_FILE, SqliteStore } from './sqlite-store.js';

/** What the manifest says of a database file: its counts, audit head, schema version, key ids. */
function describe(file: string): Pick<BackupManifest, 'tables' | 'audit_head' | 'schema_version' | 'encryption'> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables: Record<string, number> = {};
    for (const t of TABLES) tables[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    const head = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const schema = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
    const keys = (db.prepare("SELECT DISTINCT sealed FROM messages WHERE sealed IS NOT NULL AND sealed <> 'legacy'").all() as { sealed: string }[]).map((r) => r.sealed).sort();
    const legacy = db.prepare("SELECT 1 FROM messages WHERE sealed = 'legacy' LIMIT 1").get() !== undefined;
    return { tables, audit_head: head === undefined ? null : { seq: head.seq, hash: head.hash }, schema_version: schema, encryption: { encrypted: keys.length > 0 || legacy, key_ids: keys } };
  } finally {
    db.close();
  }
}

/**
 * Copies the live database with `snapshot` (SqliteStore.backup) into `<to>/<id>/swarm.db`, writes
 * the manifest beside it, and only then renames `<id>.part` to `<id>`: a backup directory with a
 * manifest is complete.
 */
export async function createSqliteBackup(snapshot: (file: string) => Promise<void>, to: string, hubVersion: string, now = new Date()): Promise<{ dir: string; manifest: BackupManifest }> {
  const id = newBackupId(now);
  const dir = join(to, id);
  const part = `${dir}.part`;
  try {
    mkdirSync(part, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HubError('validation_failed', `cannot create the backup directory ${part}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const file = join(part, DB_FILE);
    await snapshot(file);
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      id,
      created_at: now.toISOString(),
      hub_version: hubVersion,
      ...describe(file),
      store: 'sqlite',
      file: DB_FILE,
      bytes: statSync(file).size,
      sha256: await sha256Of(file),
      verified_at: null,
    };
    writeManifest(part, manifest);
    renameSync(part, dir);
    return { dir, manifest };
  } catch (e) {
    rmSync(part, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Proves a backup: the file's sha256, then on a scratch copy `PRAGMA integrity_check`, the schema
 * version and counts against the manifest, and the audit chain (with the manifest's head). Throws
 * `integrity_failed` naming the first difference; on success records `verified_at`.
 */
export async function verifySqliteBackup(dir: string, now = new Date()): Promise<VerifyReport> {
  const m = readManifest(dir);
  if (m.store !== 'sqlite') throw new HubError('validation_failed', `the backup ${m.id} is of a ${m.store} store`);
  const bad = (what: string): HubError => failsVerification(m, what);
  const file = join(dir, m.file);
  await checkSha256(dir, m);
  const scratch = mkdtempSync(join(tmpdir(), 'swarm-verify-'));
  try {
    await copyFile(file, join(scratch, DB_FILE));
    let db: Database.Database | null = null;
    let actual: ReturnType<typeof describe>;
    try {
      db = new Database(join(scratch, DB_FILE), { readonly: true, fileMustExist: true });
      const rows = db.pragma('integrity_check') as { integrity_check: string }[];
      if (rows.length !== 1 || rows[0]?.integrity_check !== 'ok') throw bad(`PRAGMA integrity_check: ${rows.map((r) => r.integrity_check).slice(0, 3).join('; ')}`);
      db.close();
      db = null;
      actual = describe(join(scratch, DB_FILE));
    } catch (e) {
      if (e instanceof HubError) throw e;
      throw bad(`the copy is not a readable SQLite database: ${(e as Error).message}`);
    } finally {
      db?.close();
    }
    return await proveCopy(dir, m, actual, async () => new SqliteStore({ dir: scratch, synchronous: 'normal' }), now);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Refuses a target a hub could be using (locked: `data_dir_locked`; not empty: `validation_failed`),
 * writing nothing there; else verifies the backup and copies it to `<to>/swarm.db`. Only the
 * database is restored: not admin.token (see docs/operations.md).
 */
/** verifySqliteBackup in a worker thread (verify-worker.ts): for the hub, whose event loop it would otherwise hold. */
export async function verifySqliteBackupOffThread(dir: string): Promise<Pick<VerifyReport, 'manifest'>> {
  const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { dir } });
  const r = await new Promise<{ ok: true; manifest: BackupManifest } | { ok: false; code: ErrorCode; message: string }>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (e) => resolve({ ok: false, code: 'internal', message: e.message }));
    worker.once('exit', (code) => resolve({ ok: false, code: 'internal', message: `the verification thread exited (${code})` }));
  });
  if (!r.ok) throw new HubError(r.code, r.message);
  return { manifest: r.manifest };
}

export async function restoreSqliteBackup(dir: string, to: string): Promise<VerifyReport> {
  let entries: string[] = [];
  try {
    entries = readdirSync(to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HubError('validation_failed', `cannot read the target directory ${to}: ${(e as Error).message}`);
  }
  if (entries.length > 0) {
    const holder = isLocked(to);
    if (holder !== false) throw new HubError('data_dir_locked', `will not restore into ${to}: a running hub holds it (${holder}); stop it, and restore into a new, empty directory`);
    throw new HubError('validation_failed', `will not restore into ${to}: it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); restore into a new or empty directory, then point the hub at it (--data)`);
  }
  const report = await verifySqliteBackup(dir);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const target = join(to, DB_FILE);
  copyFileSync(join(dir, report.manifest.file), `${target}.part`);
  renameSync(`${target}.part`, target);
  return report;
}
