// Runs in a worker thread with its own connection: `VACUUM INTO` writes a consistent snapshot of
// the database (committed WAL content included, as of the start of its read transaction) to a
// new file. Off the hub's event loop, and a reader in WAL mode never blocks the writer thread, so
// sends go on while a large store is copied (SqliteStore.backup).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { source, target } = workerData as { source: string; target: string };
let result: { ok: true } | { ok: false; error: string };
try {
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(target);
    result = { ok: true };
  } finally {
    db.close();
  }
} catch (e) {
  result = { ok: false, error: (e as Error).message };
}
parentPort?.postMessage(result);
