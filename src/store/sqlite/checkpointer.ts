// Runs in a worker thread with its own connection: moves the WAL into the database file every
// interval, so that no send's commit pays for a checkpoint (the commit-time checkpoints were the
// long tail of send latency). A PASSIVE checkpoint never blocks the writer.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
db.pragma('busy_timeout = 1000');

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
