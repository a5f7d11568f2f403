// Backups as a hub service (admins): the embedded store is copied by the hub that owns it, since
// no other process may safely open its live file (src/store/sqlite/backup.ts). A shared store
// (PostgreSQL) is backed up by `swarm backup create --database`, outside the hub.
import { join, resolve } from 'node:path';
import type { Config } from '../config/keys.js';
import { HubError } from '../errors.js';
import { type BackupManifest, listBackups } from '../store/backup-manifest.js';
import { createSqliteBackup } from '../store/sqlite/backup.js';
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

  list(actor: Actor, dir: string | undefined): { dir: string; backups: BackupManifest[] } {
    authorize(actor, 'backup.manage', 'list backups');
    const d = resolve(dir ?? defaultBackupDir(this.config));
    return { dir: d, backups: listBackups(d) };
  }
}
