// SQLite's storage failures as the hub's typed errors: a lock held past the busy timeout, a full
// disk and a failed read or write of the file each get a stable code (src/errors.ts) instead of a
// 500. Used on the hub's connection (sqlite-store.ts) and on the writer thread (writer.ts), whose
// errors cross back as data with their code.
import { HubError } from '../../errors.js';

/** The extended result code better-sqlite3 puts on a SqliteError (`SQLITE_IOERR_FSYNC`, …), if any. */
function sqliteCode(e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return null;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/**
 * `e` as a HubError when it is a storage failure: SQLITE_BUSY/LOCKED → store_busy (503, retry),
 * SQLITE_FULL → storage_full (507), SQLITE_IOERR → storage_io_error (503; the store turns unready
 * until a write succeeds again). Anything else is returned unchanged.
 */
export function storageError(e: unknown): unknown {
  const code = sqliteCode(e);
  if (code === null) return e;
  const what = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new HubError('store_busy', `the store is busy: another writer held the database lock past the busy timeout (${what}); try again`, { cause: e });
  }
  if (code === 'SQLITE_FULL') {
    return new HubError('storage_full', `the disk holding the store is full (${what}): nothing was written; free space in the data directory's filesystem, then try again`, { cause: e });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new HubError('storage_io_error', `the store's disk failed a read or write (${code}: ${what}); the write may not have happened`, { cause: e });
  }
  return e;
}

/** What the writer thread answers for a failure: a HubError, storage failures typed. */
export function writerError(e: unknown): HubError {
  const mapped = storageError(e);
  if (mapped instanceof HubError) return mapped;
  return new HubError('store_unavailable', `the store could not write: ${(e as Error).message}`);
}

/**
 * Wraps every method of `proto` so that what it throws, or rejects with, goes through `typed`
 * first (the SQLite store: storage failures typed, whichever of its connections met them).
 */
export function typeFailures<T extends object>(proto: T, typed: (self: T, e: unknown) => unknown): void {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method: unknown = (proto as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    Object.defineProperty(proto, name, {
      value(this: T, ...args: unknown[]): unknown {
        try {
          const out: unknown = method.apply(this, args);
          return out instanceof Promise ? out.catch((e: unknown) => Promise.reject(typed(this, e))) : out;
        } catch (e) {
          throw typed(this, e);
        }
      },
      writable: true,
      configurable: true,
    });
  }
}
