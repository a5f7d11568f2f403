// Backups as a hub service (admins): the embedded store is copied by the hub that owns it, since
// no other process may safely open its live file (src/store/sqlite/backup.ts). A shared store
// (PostgreSQL) is backed up by `swarm backup create --database`, outside the hub. With
// backup.schedule the embedded hub takes one itself at that interval, verifies it (a backup is
// good only once verified) and keeps the newest backup.keep; swarm_backup_last_good_age_seconds
// says how old the newest good one is.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/keys.js';
import { HubError } from '../errors.js';
import { type BackupManifest, listBackups } from '../store/backup-manifest.js';
import { createSqliteBackup, verifySqliteBackupOffThread } from '../store/sqlite/backup.js';
import type { Store } from '../store/store.js';
import { type Actor, authorize } from './actor.js';

/** Where backups go unless told: <data.dir>/backups. */
export function defaultBackupDir(config: Config): string {
  return join(resolve(config['data.dir']), 'backups');
}

export class Backups {
  constructor(
    private readonly store: Store,
    private readonly config: Config,
  ) {}

  async create(actor: Actor, o: { to?: string | undefined; hubVersion: string }): Promise<{ dir: string; manifest: BackupManifest }> {
    authorize(actor, 'backup.manage', 'take a backup');
    const snapshot = this.store.backup?.bind(this.store);
    if (snapshot === undefined) {
      throw new HubError('validation_failed', `this hub's store (${this.store.kind}) is backed up outside the hub: swarm backup create --database <url> (pg_dump)`);
    }
    return createSqliteBackup(snapshot, resolve(o.to ?? defaultBackupDir(this.config)), o.hubVersion);
  }

  /** The embedded hub's own: a backup into the default directory, verified, then older ones pruned. */
  async scheduled(hubVersion: string): Promise<BackupManifest | null> {
    const snapshot = this.store.backup?.bind(this.store);
    if (snapshot === undefined) return null;
    const dir = defaultBackupDir(this.config);
    const made = await createSqliteBackup(snapshot, dir, hubVersion);
    // Off the event loop: on a large store the check takes seconds.
    const { manifest } = await verifySqliteBackupOffThread(made.dir);
    this.prune(dir, this.config['backup.keep']);
    return manifest;
  }

  /** Removes all but the newest `keep` backups in `dir`, never the newest verified one. */
  private prune(dir: string, keep: number): void {
    const all = listBackups(dir);
    const good = all.find((b) => b.verified_at !== null);
    for (const b of all.slice(keep)) if (b !== good) rmSync(join(dir, b.id), { recursive: true, force: true });
  }

  /** Seconds since the newest verified backup in the default directory was taken; null: none. */
  lastGoodAgeSeconds(now = Date.now()): number | null {
    const good = listBackups(defaultBackupDir(this.config)).find((b) => b.verified_at !== null);
    return good === undefined ? null : Math.max(0, (now - Date.parse(good.created_at)) / 1000);
  }

  list(actor: Actor, dir: string | undefined): { dir: string; backups: BackupManifest[] } {
    authorize(actor, 'backup.manage', 'list backups');
    const d = resolve(dir ?? defaultBackupDir(this.config));
    return { dir: d, backups: listBackups(d) };
  }
}
