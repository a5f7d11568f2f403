// backup create | list | verify | restore (docs/operations.md, "Backups"). The embedded store is
// copied by the hub itself (POST /v1/backups: no other process may open its live file); verify and
// restore work on the copy in this process and need no hub. Verification failures are
// `integrity_failed` (exit 12); a restore target in use is `data_dir_locked` (14), one not empty
// `validation_failed` (3).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { BackupManifestWire } from '../../api/schemas.js';
import { HubError } from '../../errors.js';
import { cliConfig, clientFor, type GlobalOptions } from '../context.js';
import { emit, makeOutput, table } from '../render.js';

const DEFAULT_IN = 'the hub’s <data.dir>/backups';

function inDir(g: GlobalOptions, dir: string | undefined): string {
  return resolve(dir ?? `${cliConfig(g).config['data.dir']}/backups`);
}

/** --database, else store.database (SWARM_DATABASE) when it names PostgreSQL; '' for none. */
function databaseOf(g: GlobalOptions, flag: string | undefined): string {
  const url = flag ?? cliConfig(g).config['store.database'];
  return /^postgres(ql)?:/.test(url) ? url : '';
}

export function registerBackupCommands(program: Command, version: string): void {
  const backup = program.command('backup').description('backups of the hub’s store, taken while it serves; verify them, restore them (admins)');
  backup
    .command('create')
    .description('have the hub copy its store into a new backup directory (a consistent snapshot), with a manifest')
    .option('--to <dir>', `directory on the hub’s host to put the backup in (default ${DEFAULT_IN}; with --database: <data.dir>/backups here)`)
    .option('--database <url>', 'PostgreSQL: pg_dump the hub’s schema from here instead (run where pg_dump is installed; no hub call)')
    .option('--schema <name>', 'with --database: the hub’s schema (default store.schema, else the connection’s)')
    .action(async (o: { to?: string; database?: string; schema?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      let r: { dir: string; manifest: BackupManifestWire };
      if (o.database !== undefined) {
        const { createPostgresBackup } = await import('../../store/postgres/backup.js');
        const schema = o.schema ?? (cliConfig(g).config['store.schema'] || undefined);
        r = await createPostgresBackup({ url: o.database, schema, to: inDir(g, o.to), hubVersion: version });
      } else r = await clientFor(g).createBackup(o.to === undefined ? undefined : resolve(o.to));
      if (out.quiet && !out.json) return void process.stdout.write(`${r.manifest.id}\n`);
      emit(out, r, () => `backup ${r.manifest.id} written to ${r.dir} (${r.manifest.bytes} bytes, ${r.manifest.tables.messages ?? 0} messages, audit head ${r.manifest.audit_head === null ? 'none' : `${r.manifest.audit_head.seq}`}); not yet verified: swarm backup verify ${r.dir}`);
    });
  backup
    .command('list')
    .description('the backups in a directory, newest first')
    .option('--in <dir>', `directory on the hub’s host (default ${DEFAULT_IN})`)
    .action(async (o: { in?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).backups(o.in === undefined ? undefined : resolve(o.in));
      emit(out, r, () =>
        r.backups.length === 0
          ? `no backups in ${r.dir}`
          : table(['ID', 'CREATED', 'STORE', 'BYTES', 'MESSAGES', 'VERIFIED'], r.backups.map((b) => [b.id, b.created_at, b.store, String(b.bytes), String(b.tables.messages ?? 0), b.verified_at ?? 'never'])),
      );
    });
  backup
    .command('verify')
    .description('prove a backup: sha256, integrity check, schema version and row counts against the manifest, audit chain; records verified_at; exit 12 when it fails')
    .argument('<backup>', 'a backup id (looked up in --in) or the path of its directory')
    .option('--in <dir>', 'where to look up an id (default <data.dir>/backups)')
    .option('--database <url>', 'PostgreSQL backups: the server to restore into a scratch database (created, then dropped; needs CREATEDB); default store.database')
    .action(async (id: string, o: { in?: string; database?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const { backupDir, readManifest } = await import('../../store/backup-manifest.js');
      const dir = backupDir(id, inDir(g, o.in));
      let r: { manifest: BackupManifestWire; auditRecords: number };
      if (readManifest(dir).store === 'postgres') {
        const server = databaseOf(g, o.database);
        if (server === '') throw new HubError('usage', 'a PostgreSQL backup is verified by restoring it into a scratch database: pass --database postgres://… (a server where you may CREATE DATABASE)');
        const { verifyPostgresBackup } = await import('../../store/postgres/backup.js');
        r = await verifyPostgresBackup(dir, server);
      } else {
        const { verifySqliteBackup } = await import('../../store/sqlite/backup.js');
        r = await verifySqliteBackup(dir);
      }
      emit(out, { ok: true, audit_records: r.auditRecords, manifest: r.manifest }, () => `backup ${r.manifest.id} verified: sha256, integrity check, schema version ${r.manifest.schema_version}, ${Object.keys(r.manifest.tables).length} table counts and the audit chain (${r.auditRecords} records) match the manifest`);
    });
  backup
    .command('restore')
    .description('verify a backup, then copy it into a new, empty data directory (never one in use)')
    .argument('<backup>', 'a backup id (looked up in --in) or the path of its directory')
    .requiredOption('--to <dir|url>', 'the data directory to create (must not exist or be empty); for a PostgreSQL backup, postgres://… whose schema (as backed up) is missing or empty')
    .option('--in <dir>', 'where to look up an id (default <data.dir>/backups)')
    .addHelpText('after', '\nThe admin token is not in the backup: the restored hub writes a new <dir>/admin.token on its first start\n(revoking the admin token the backup held). Other tokens in the backup keep working.')
    .action(async (id: string, o: { to: string; in?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const { backupDir, readManifest } = await import('../../store/backup-manifest.js');
      const dir = backupDir(id, inDir(g, o.in));
      if (readManifest(dir).store === 'postgres') {
        if (!/^postgres(ql)?:/.test(o.to)) throw new HubError('usage', 'a PostgreSQL backup restores into a database: --to postgres://…');
        const { restorePostgresBackup } = await import('../../store/postgres/backup.js');
        const p = await restorePostgresBackup(dir, o.to);
        return emit(out, { restored: p.manifest.id, schema: p.schema, manifest: p.manifest }, () => `backup ${p.manifest.id} verified and restored into schema ${p.schema}; start the hub with --database <url>${p.schema === 'public' ? '' : ` and SWARM_DB_SCHEMA=${p.schema}`}; tokens are restored, the admin token included`);
      }
      const { restoreSqliteBackup } = await import('../../store/sqlite/backup.js');
      const to = resolve(o.to);
      const r = await restoreSqliteBackup(dir, to);
      emit(out, { restored: r.manifest.id, to, manifest: r.manifest }, () =>
        [
          `backup ${r.manifest.id} verified and restored into ${to}`,
          `start it: swarm serve --data ${to}`,
          `admin token: not restored; on its first start the hub writes a new one to ${to}/admin.token (the backup's admin token is revoked then); other agents' tokens keep working`,
          r.manifest.encryption.encrypted ? `message content is encrypted under key ${r.manifest.encryption.key_ids.join(', ')}: start the hub with the same security.encryptionKey` : '',
        ]
          .filter((s) => s !== '')
          .join('\n'),
      );
    });
}
