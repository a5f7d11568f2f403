// Each test owns its namespace: a fresh temporary directory, removed when the test process ends.
// Not at the end of the test: `t.after` hooks run in the order they were added, so a removal
// registered here would run before the test's own `store.close()`, while the store's writer and
// checkpointer threads may still open files in the directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/** A fresh temporary directory. */
export function tempDir(prefix = 'swarm-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}
