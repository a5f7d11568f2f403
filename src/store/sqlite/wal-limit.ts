// Keeps the `-wal` file under a size limit (store.walLimitMiB). The checkpointer's PASSIVE
// checkpoints copy the WAL into the database file but can never restart it while sends keep
// coming: a restart needs a moment when every frame is copied and no writer is between
// transactions, which sustained load never gives (1,000,000 sends left a 3.75 GB WAL). So the
// writer itself, before each commit, looks at the file: past half the limit it runs a RESTART
// checkpoint, which waits for readers and copies what is left, and its next commit writes the WAL
// from the start again, truncated to `journal_size_limit` (half the limit). That wait is the
// back-pressure: sends queue in the group commit while the checkpoint catches up. What one commit
// adds after the check is the slack over half the limit, far below the other half.
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { storageError } from './storage-errors.js';

/** The size of the WAL file, 0 when there is none. */
export function walBytes(walFile: string): number {
  try {
    return statSync(walFile).size;
  } catch {
    return 0;
  }
}

/** What a connection that writes sets: a restarted WAL is cut back to half the limit. */
export function limitJournal(db: Database.Database, limitBytes: number): void {
  db.pragma(`journal_size_limit = ${Math.floor(limitBytes / 2)}`);
}

/** How long the writer waits, at most, for a RESTART checkpoint to get through, in ms. */
const RESTART_WAIT_MS = 10_000;
const RETRY_MS = 20;

export class WalLimit {
  /** RESTART checkpoints run. */
  restarts = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly walFile: string,
    private readonly limitBytes: number,
  ) {
    limitJournal(db, limitBytes);
  }

  /**
   * Before a commit: when the WAL is past half the limit, checkpoint it all and let the next
   * commit restart it. Another checkpoint in progress (the checkpointer's PASSIVE one) or a
   * reader on an old snapshot makes it busy: it is tried again until RESTART_WAIT_MS have passed.
   * The commit goes ahead in any case; one the disk cannot take (full: the checkpoint could not
   * grow the database file) fails there, typed, without waiting here first.
   */
  enforce(): void {
    if (walBytes(this.walFile) <= this.limitBytes / 2) return;
    const until = Date.now() + RESTART_WAIT_MS;
    for (;;) {
      let busy = true;
      try {
        const [r] = this.db.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
        busy = r === undefined || r.busy !== 0;
      } catch (e) {
        // SQLITE_BUSY as an error (the checkpoint lock is taken) is tried again; not a disk error.
        const typed = storageError(e);
        if (!(typed instanceof HubError) || typed.code !== 'store_busy') return;
      }
      if (!busy) {
        this.restarts += 1;
        return;
      }
      if (Date.now() >= until) return;
      // The writer thread may block: that is the back-pressure. (Its thread gone, the hub's own
      // connection commits, synchronously on the event loop in any case.)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
    }
  }
}
