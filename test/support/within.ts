// Waits for a condition that must come true within a stated bound (a cache invalidation, a
// revocation reaching another process). Fails with the time it waited: the bound is the assertion.
import assert from 'node:assert/strict';

/** Polls `check` every 10 ms until it returns true; fails if `boundMs` passes first. Returns the ms it took. */
export async function within(boundMs: number, check: () => Promise<boolean>, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    const waited = performance.now() - started;
    if (waited > boundMs) assert.fail(`${what}: still not true after ${Math.round(waited)} ms (bound ${boundMs} ms)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
