// Backups of a PostgreSQL hub (docs/operations.md, "Backups"): `pg_dump --format=custom` of the
// hub's schema, run by the CLI, with the same manifest as the embedded store's. The manifest's
// counts and audit head are read in the very snapshot the dump copies (pg_export_snapshot, passed
// to pg_dump --snapshot), so they describe the dump exactly while the hub keeps serving.
// `verify` restores the dump into a scratch database created on a server it is given, checks the
// counts and the audit chain there, and drops it; `restore` refuses a schema that holds anything.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { HubError } from '../../errors.js';
import { type BackupManifest, MANIFEST_FORMAT, newBackupId, readManifest, writeManifest } from '../backup-manifest.js';
import { checkSha256, failsVerification, proveCopy, sha256Of, type VerifyReport } from '../backup-proof.js';
import { TABLES } from '../transfer.js';
import { redactUrl } from './connection.js';
import { quoteIdent } from './migrate.js';
import { PostgresStore } from './postgres-store.js';

export const DUMP_FILE = 'swarm.dump';

/** pg_dump / pg_restore: on PATH, else the newest Debian install (/usr/lib/postgresql/<major>/bin), as scripts/postgres.mjs finds the server. */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const majors = readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', name))).sort((a, b) => Number(b) - Number(a));
    if (majors[0] !== undefined) return join(base, majors[0], 'bin', name);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  throw new HubError('config_invalid', `${name} not found (on PATH or under /usr/lib/postgresql/*/bin): install the PostgreSQL client (Debian: apt-get install postgresql-client)`);
}

function run(tool: 'pg_dump' | 'pg_restore', args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(pgTool(tool), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new HubError('store_unavailable', `${tool} failed (exit ${code}): ${err.trim().split('\n').slice(0, 3).join('; ')}`))));
  });
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
  } catch (e) {
    throw new HubError('store_unavailable', `cannot connect to ${redactUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  return c;
}

async function schemaOf(c: pg.Client, schema: string | undefined): Promise<string> {
  if (schema !== undefined) return schema;
  const s = (await c.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
  if (s === null || s === undefined) throw new HubError('config_invalid', 'the connection has no current schema: pass --schema');
  return s;
}

type Described = Pick<BackupManifest, 'tables' | 'audit_head' | 'schema_version' | 'encryption'>;

async function describe(c: pg.Client, schema: string): Promise<Described> {
  const q = (t: string): string => `${quoteIdent(schema)}.${quoteIdent(t)}`;
  const tables: Record<string, number> = {};
  for (const t of TABLES) tables[t] = Number((await c.query(`SELECT count(*) AS n FROM ${q(t)}`)).rows[0].n);
  const head = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${q('audit')} ORDER BY seq DESC LIMIT 1`)).rows[0];
  const version = Number((await c.query(`SELECT coalesce(max(version), 0) AS v FROM ${q('schema_migrations')}`)).rows[0].v);
  const keys = (await c.query<{ sealed: string }>(`SELECT DISTINCT sealed FROM ${q('messages')} WHERE sealed IS NOT NULL AND sealed <> 'legacy' ORDER BY 1`)).rows.map((r) => r.sealed);
  const legacy = (await c.query(`SELECT 1 FROM ${q('messages')} WHERE sealed = 'legacy' LIMIT 1`)).rowCount !== 0;
  return { tables, audit_head: head === undefined ? null : { seq: Number(head.seq), hash: head.hash }, schema_version: version, encryption: { encrypted: keys.length > 0 || legacy, key_ids: keys } };
}

/** Dumps the hub's schema into `<to>/<id>/swarm.dump` with its manifest, while the hub serves. */
export async function createPostgresBackup(o: { url: string; schema?: string | undefined; to: string; hubVersion: string }, now = new Date()): Promise<{ dir: string; manifest: BackupManifest }> {
  const id = newBackupId(now);
  const dir = join(o.to, id);
  const part = `${dir}.part`;
  const c = await connect(o.url);
  try {
    const schema = await schemaOf(c, o.schema);
    mkdirSync(part, { recursive: true, mode: 0o700 });
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]?.s ?? '';
    const described = await describe(c, schema);
    const file = join(part, DUMP_FILE);
    await run('pg_dump', ['--format=custom', `--snapshot=${snapshot}`, `--schema=${schema}`, '--no-owner', '--no-privileges', `--file=${file}`, `--dbname=${o.url}`]);
    await c.query('COMMIT');
    const manifest: BackupManifest & { pg_schema: string } = {
      format: MANIFEST_FORMAT,
      id,
      created_at: now.toISOString(),
      hub_version: o.hubVersion,
      ...described,
      store: 'postgres',
      file: DUMP_FILE,
      bytes: statSync(file).size,
      sha256: await sha256Of(file),
      verified_at: null,
      pg_schema: schema,
    };
    writeManifest(part, manifest);
    renameSync(part, dir);
    return { dir, manifest };
  } catch (e) {
    rmSync(part, { recursive: true, force: true });
    if ((e as { code?: string }).code === '3F000') throw new HubError('validation_failed', `no schema ${o.schema ?? ''} in ${redactUrl(o.url)}: ${(e as Error).message}`);
    if ((e as { code?: string }).code === '42P01') throw new HubError('validation_failed', `${redactUrl(o.url)} holds no hub there: ${(e as Error).message}`);
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function pgSchemaOf(m: BackupManifest): string {
  const s = (m as BackupManifest & { pg_schema?: unknown }).pg_schema;
  if (typeof s !== 'string' || s === '') throw new HubError('integrity_failed', `the manifest of backup ${m.id} names no schema (pg_schema)`);
  return s;
}

/**
 * pg_restore of the hub's schema into `url`: the unaccent extension its search function calls
 * lives in public, outside the dump (postgres/migrations/0001_init.sql), so it is created first.
 * `--clean` replaces an empty schema of the same name (the caller checked it is empty).
 */
async function pgRestore(url: string, file: string, schema: string): Promise<void> {
  const c = await connect(url);
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public');
  } finally {
    await c.end();
  }
  await run('pg_restore', ['--exit-on-error', ...(schema === 'public' ? [] : ['--clean', '--if-exists']), '--no-owner', '--no-privileges', `--dbname=${url}`, file]);
}

/** The URL of another database on the same server. */
function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Proves a PostgreSQL backup: its sha256, then pg_restore into a scratch database created on the
 * server at `server` (dropped after), the schema version and counts against the manifest, and the
 * audit chain there. Throws `integrity_failed` naming the first difference.
 */
export async function verifyPostgresBackup(dir: string, server: string, now = new Date()): Promise<VerifyReport> {
  const m = readManifest(dir);
  const schema = pgSchemaOf(m);
  const bad = (what: string): HubError => failsVerification(m, what);
  await checkSha256(dir, m);
  const scratch = `swarm_verify_${randomBytes(6).toString('hex')}`;
  const admin = await connect(server);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
  } catch (e) {
    await admin.end();
    throw new HubError('store_unavailable', `cannot create a scratch database to verify in on ${redactUrl(server)} (needs CREATEDB): ${(e as Error).message}`, { cause: e });
  }
  try {
    const url = withDatabase(server, scratch);
    await pgRestore(url, join(dir, m.file), schema).catch((e: Error) => {
      throw bad(`pg_restore cannot restore it: ${e.message}`);
    });
    const c = await connect(url);
    const actual = await describe(c, schema).finally(() => c.end());
    return await proveCopy(dir, m, actual, () => PostgresStore.open({ url, schema, poolSize: 2 }), now);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/** Verifies the backup, then restores it into `url` (its schema as backed up), refusing a schema that holds anything. */
export async function restorePostgresBackup(dir: string, url: string): Promise<VerifyReport & { schema: string }> {
  const m = readManifest(dir);
  const schema = pgSchemaOf(m);
  const c = await connect(url);
  try {
    const held = (await c.query<{ name: string }>('SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 LIMIT 3', [schema])).rows.map((r) => r.name);
    if (held.length > 0) throw new HubError('validation_failed', `will not restore into ${redactUrl(url)}: schema ${schema} is not empty (${held.join(', ')}…); restore into a database where it is empty or missing`);
  } finally {
    await c.end();
  }
  const report = await verifyPostgresBackup(dir, url);
  await pgRestore(url, join(dir, m.file), schema);
  return { ...report, schema };
}
