// Runs in a worker thread with its own connection: moves the WAL into the database file every
// interval, so that no send's commit pays for a checkpoint (the commit-time checkpoints were the
// long tail of send latency). A PASSIVE checkpoint never blocks the writer. Once the writes stop
// (no new frame since the last interval, every frame copied), a TRUNCATE checkpoint gives the
// WAL file's space back; under load the writer keeps the file under store.walLimitMiB
// (wal-limit.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { walBytes } from './wal-limit.js';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
db.pragma('busy_timeout = 1000');

/** Frames in the WAL at the last checkpoint: the same count twice means no commit in between. */
let lastFrames = -1;

function checkpoint(): void {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    if (r === undefined) return;
    const idle = r.busy === 0 && r.log === r.checkpointed && r.log === lastFrames;
    lastFrames = r.log;
    if (idle && walBytes(`${file}-wal`) > 0) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy or closing: the next interval tries again.
  }
}

const timer = setInterval(checkpoint, intervalMs);
parentPort?.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort?.close();
});
