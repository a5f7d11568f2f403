// Runs in a worker thread: verifies a backup of the embedded store (backup.ts
// verifySqliteBackup: sha256, integrity check, counts, audit chain), so that a scheduled backup's
// verification does not hold the hub's event loop for the seconds a large copy takes.
import { parentPort, workerData } from 'node:worker_threads';
import { HubError } from '../../errors.js';
import { verifySqliteBackup } from './backup.js';

const { dir } = workerData as { dir: string };
try {
  const r = await verifySqliteBackup(dir);
  parentPort?.postMessage({ ok: true, manifest: r.manifest });
} catch (e) {
  parentPort?.postMessage({ ok: false, code: e instanceof HubError ? e.code : 'internal', message: (e as Error).message });
}
