// `swarm token reissue-admin`: the way back in when the admin token is lost (on Kubernetes, the pod
// that minted it went before anyone copied its file, and no process mints another). Like
// rabbitmqctl administering a node through its own files, it needs no token and no running hub: it
// opens the store the way `swarm serve` does and reissues the admin's token there. Whoever holds the
// database credentials, or can write the embedded store's directory, owns the hub anyway.
import { existsSync, mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../config/data-files.js';
import type { Config } from '../config/keys.js';
import { HubError } from '../errors.js';
import { reissueAdminToken, stageTokenFile, type StagedTokenFile } from '../hub/onboarding.js';
import { newToken } from '../security/tokens.js';
import { DB_FILE } from '../store/sqlite/connection.js';
import { type DirLock, describeHolder, lockDataDir, readHolder } from '../store/sqlite/dir-lock.js';
import { openStore, sqliteDir } from './serve.js';

export interface ReissuedAdmin {
  /** The secret: printed once (or written to --out), never stored. */
  token: string;
  /** The new token's id. */
  id: string;
  /** Tokens the hub had minted for the admin, now revoked. */
  revoked: string[];
  /** No hub had registered the admin in this store: this did (a fresh database, or the wrong one). */
  registered: boolean;
  /** Files the token was written to. */
  files: string[];
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`; // a uid with no passwd entry (containers)
  }
}

function stage(file: string, token: string, what: string): StagedTokenFile {
  try {
    return stageTokenFile(file, token);
  } catch (e) {
    throw new HubError('config_invalid', `cannot write ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The embedded store's lock, or the refusal saying what to do while its hub runs. */
function lockStore(dir: string, tokenFile: string): DirLock {
  try {
    return lockDataDir(dir);
  } catch (e) {
    if (!(e instanceof HubError && e.code === 'data_dir_locked')) throw e;
    throw new HubError(
      'data_dir_locked',
      `the embedded store in ${dir} is in use by a running hub (${describeHolder(readHolder(dir))}): stop it first; or delete ${tokenFile} and restart that hub, which mints a new admin token at start`,
      { details: e.details, cause: e },
    );
  }
}

/**
 * Revokes the tokens the hub minted for the admin and mints a new one (onboarding.ts
 * reissueAdminToken). Refused, changing nothing: a malformed store.database (config_invalid), a
 * directory with no embedded store in it (config_invalid), an embedded store a running hub holds
 * (data_dir_locked), PostgreSQL unreachable (store_unavailable), a schema newer than this code
 * (schema_too_new), a file that cannot be written. Every file is staged before the store changes
 * and renamed into place after it commits.
 */
export async function reissueAdmin(config: Config, o: { out?: string | undefined } = {}): Promise<ReissuedAdmin> {
  const dir = sqliteDir(config);
  // Opening a directory with no store in it would create a hub there: a mistyped --data, most likely.
  if (dir !== null && !existsSync(join(dir, DB_FILE))) {
    throw new HubError('config_invalid', `no hub store in ${dir} (no ${DB_FILE}): give --data the hub's data directory, or --database its PostgreSQL URL`);
  }
  const lock = dir === null ? null : lockStore(dir, join(resolve(config['data.dir']), ADMIN_TOKEN_FILE));
  const staged: StagedTokenFile[] = [];
  try {
    const token = newToken();
    const targets = new Map<string, string>();
    if (o.out !== undefined) targets.set(resolve(o.out), '--out');
    if (dir !== null) {
      // The embedded hub's own copy, beside its store. Left holding a revoked token, the hub's next
      // start would keep it (the admin holds a live token); with no file there, it would replace
      // the token just issued (ensureAdminToken).
      const dataDir = resolve(config['data.dir']);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (!targets.has(join(dataDir, ADMIN_TOKEN_FILE))) targets.set(join(dataDir, ADMIN_TOKEN_FILE), 'the admin token file');
    }
    for (const [file, what] of targets) staged.push(stage(file, token, what));
    const files = [...targets.keys()];
    // A database or schema no hub made is a mistyped --database or SWARM_DB_SCHEMA: refused, nothing created.
    const store = await openStore(config, undefined, undefined, { existing: true });
    try {
      const r = await reissueAdminToken(store, { secret: token, detail: { via: 'swarm token reissue-admin', host: hostname(), user: osUser() } });
      for (const s of staged) s.commit();
      // Every hub process refuses the revoked tokens within its directory bound (a trigger bumps the
      // directory version); this also ends the streams opened with them. Best effort: the
      // revocation is committed either way.
      if (store.shared && r.revoked.length > 0) await store.publish({ type: 'revoked', tokenIds: r.revoked }).catch(() => undefined);
      return { token, ...r, files };
    } finally {
      await store.close();
    }
  } finally {
    for (const s of staged) s.discard(); // a no-op for those renamed into place
    lock?.release();
  }
}
