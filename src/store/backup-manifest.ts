// What a backup holds beside its copy of the database: manifest.json. It says what the copy should
// be (its sha256, each table's row count, the audit chain's head, the schema version) so that
// `swarm backup verify` can prove the copy is that, and when it was last proven (verified_at).
// Key ids are named, never keys: a backup of an encrypted hub is restored with the same keyring.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HubError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'swarm-backup/1';

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  created_at: string;
  hub_version: string;
  /** The highest migration applied in the copy. */
  schema_version: number;
  store: 'sqlite' | 'postgres';
  /** The copy, beside the manifest: swarm.db (SQLite) or swarm.dump (pg_dump --format=custom). */
  file: string;
  bytes: number;
  sha256: string;
  tables: Record<string, number>;
  audit_head: { seq: number; hash: string } | null;
  encryption: { encrypted: boolean; key_ids: string[] };
  /** Set by a verify that passed; a backup is good only once verified. */
  verified_at: string | null;
}

/** A backup's directory from an id (looked up in `inDir`) or a path (the directory or its manifest). */
export function backupDir(idOrPath: string, inDir: string): string {
  const looksLikePath = idOrPath.includes('/') || idOrPath.startsWith('.');
  const dir = looksLikePath ? (basename(idOrPath) === MANIFEST_FILE ? dirname(idOrPath) : idOrPath) : join(inDir, idOrPath);
  try {
    statSync(join(dir, MANIFEST_FILE));
  } catch {
    throw new HubError('not_found', `no backup at ${dir} (no ${MANIFEST_FILE} there)${looksLikePath ? '' : `; swarm backup list --in ${inDir} shows the backups there`}`);
  }
  return dir;
}

export function readManifest(dir: string): BackupManifest {
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Partial<BackupManifest>;
  } catch (e) {
    throw new HubError('integrity_failed', `the manifest ${join(dir, MANIFEST_FILE)} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const ok = m.format === MANIFEST_FORMAT && typeof m.id === 'string' && typeof m.sha256 === 'string' && typeof m.file === 'string' && typeof m.tables === 'object' && m.tables !== null && typeof m.schema_version === 'number';
  if (!ok || basename(m.file ?? '') !== m.file) throw new HubError('integrity_failed', `the manifest ${join(dir, MANIFEST_FILE)} is not a ${MANIFEST_FORMAT} manifest`);
  return m as BackupManifest;
}

/** Whole or not at all. */
export function writeManifest(dir: string, m: BackupManifest): void {
  const file = join(dir, MANIFEST_FILE);
  writeFileSync(`${file}.part`, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.part`, file);
}

/** The backups in `dir`, newest first; a directory without a readable manifest is left out. */
export function listBackups(dir: string): BackupManifest[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: BackupManifest[] = [];
  for (const n of names) {
    try {
      out.push(readManifest(join(dir, n)));
    } catch {
      // A backup being written (`.part`) or something else kept there.
    }
  }
  return out.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** backup-20261127T180510Z-1a2b: sorts by time, unique enough for one hub's directory. */
export function newBackupId(now: Date): string {
  return `backup-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${Math.random().toString(16).slice(2, 6)}`;
}
