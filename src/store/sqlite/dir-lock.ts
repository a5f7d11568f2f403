// One hub per embedded store. Two `swarm serve` on one SQLite directory would each act as its only
// owner: a token revoked through one still worked through the other, and leases and inbox floors
// (kept in each process's memory) diverged (issue 12). The second one must refuse to start.
//
// How: an exclusive lock on a file of its own, `swarm.lock`, an empty SQLite database held in
// `BEGIN EXCLUSIVE` by a connection that stays open for the life of the process. SQLite takes that
// lock as a POSIX advisory (fcntl) lock, which the kernel drops when the process ends, however it
// ends: SIGKILL, a crash, the OOM killer. So there is no stale lock to detect or clean up, and a
// hub killed with -9 restarts at once. A lock file holding the holder's pid, checked for liveness,
// was the other candidate and is weaker: the pid may have been reused by an unrelated process, may
// belong to another host or container sharing the volume (where it cannot be checked), and
// "check, then create" races between two starts. Within one process SQLite keeps the lock too, so a
// second hub started in the same process is refused the same way.
//
// Who holds it is written beside it in `swarm.lock.json` (pid, host, port, start time) by the
// holder only, after it took the lock, and again once it listens: the process refused the lock
// reads it there to name the holder.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';

export const LOCK_FILE = 'swarm.lock';
export const HOLDER_FILE = 'swarm.lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  /** The port it listens on; null while it starts. */
  port: number | null;
  /** When it took the lock (ISO 8601). */
  since: string;
}

export interface DirLock {
  readonly dir: string;
  /** Records the port the holder listens on, for a process refused the lock to name. */
  listening(port: number): void;
  /** Lets the lock go (the kernel does it anyway when the process ends). Idempotent. */
  release(): void;
}

/** Takes the directory's lock, or throws `data_dir_locked` naming the process that holds it. */
export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    // timeout 0: refuse at once rather than wait for the holder to end.
    db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
    // Nothing is ever written to it: its journal stays in memory (no file beside it).
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new HubError('data_dir_locked', `the data directory ${dir} is in use by another hub: ${describeHolder(readHolder(dir))}; stop that one first, or give this one another --data`, {
        details: { dir, holder: readHolder(dir) },
      });
    }
    throw new HubError('config_invalid', `cannot lock the data directory ${dir} (${join(dir, LOCK_FILE)}): ${(e as Error).message}`, { cause: e });
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), port: null, since: new Date().toISOString() };
  writeHolder(dir, holder);
  let held = true;
  return {
    dir,
    listening(port: number): void {
      if (!held) return;
      holder.port = port;
      writeHolder(dir, holder);
    },
    release(): void {
      if (!held) return;
      held = false;
      // The file first: once the lock is free, the next holder writes its own.
      rmSync(join(dir, HOLDER_FILE), { force: true });
      db.close();
    },
  };
}

function writeHolder(dir: string, h: LockHolder): void {
  const file = join(dir, HOLDER_FILE);
  const part = `${file}.${process.pid}.part`;
  writeFileSync(part, `${JSON.stringify(h)}\n`, { mode: 0o600 });
  renameSync(part, file);
}

/** The holder as it recorded itself; null when it has not yet (it is starting) or the file is unreadable. */
export function readHolder(dir: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.since !== 'string') return null;
    return { pid: h.pid, host: h.host, port: typeof h.port === 'number' ? h.port : null, since: h.since };
  } catch {
    return null;
  }
}

/** The holder in words, for a refusal to name. */
export function describeHolder(h: LockHolder | null): string {
  if (h === null) return 'a process that has not recorded itself yet (it is starting)';
  return `pid ${h.pid} on host ${h.host}, ${h.port === null ? 'not listening yet' : `port ${h.port}`}, since ${h.since}`;
}

/**
 * Whether a running hub holds `dir`'s lock, without taking it or writing anything: false when
 * nobody does, else a description of the holder.
 */
export function isLocked(dir: string): string | false {
  let db: Database.Database;
  try {
    db = new Database(join(dir, LOCK_FILE), { timeout: 0, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' ? describeHolder(readHolder(dir)) : false;
  } finally {
    db.close();
  }
}
