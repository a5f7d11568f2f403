// The dispatcher's hand-out passes (src/hub/dispatch.ts) on a real SQLite store: which events start
// a pass, and that deliveries left unacknowledged by a consumer that went away still come back to
// the agent's other consumers without any other activity.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { HubError } from '../../src/errors.js';
import { Dispatcher } from '../../src/hub/dispatch.js';
import type { StreamEvent, Subscription } from '../../src/hub/subscription.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { msg, seed, send } from '../conformance/fixtures.js';
import { tempDir } from '../support/temp.js';

async function setup(t: TestContext, visibilityMs: number): Promise<{ store: SqliteStore; d: Dispatcher }> {
  const store = new SqliteStore({ dir: tempDir(), synchronous: 'normal' });
  await seed(store, 'a', 'b');
  const d = new Dispatcher(store, { visibilityMs: () => visibilityMs, maxAttempts: () => 5, now: Date.now, onError: (e) => assert.fail(e as Error) });
  t.after(async () => {
    d.close(new HubError('shutting_down', 'test over'));
    await store.close();
  });
  return { store, d };
}

/** The next `n` message ids the subscription receives. */
async function take(sub: Subscription, n: number): Promise<string[]> {
  const got: string[] = [];
  const it = sub[Symbol.asyncIterator]();
  while (got.length < n) {
    const r = (await it.next()) as IteratorResult<StreamEvent>;
    if (r.done === true) break;
    if (r.value.type === 'delivery') got.push(r.value.item.message.id);
  }
  return got;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe('dispatcher', () => {
  it('starts a hand-out after an ack only when a consumer had no credit left', async (t) => {
    const { store, d } = await setup(t, 60_000);
    const sub = await d.subscribe('b', { prefetch: 2, presence: false });
    const m = [];
    for (let i = 0; i < 3; i++) m.push((await send(store, msg('a', ['b']))).id);
    d.notify(['b']);
    assert.deepEqual(await take(sub, 2), m.slice(0, 2), 'two: its prefetch');
    await settle();
    const before = d.passes;
    await store.ack('b', [m[0] as string], Date.now());
    d.acked('b', [m[0] as string]);
    assert.deepEqual(await take(sub, 1), [m[2]], 'the ack freed credit of a full consumer: the third comes');
    assert.equal(d.passes, before + 1);
    await settle();
    await store.ack('b', [m[1] as string], Date.now());
    d.acked('b', [m[1] as string]);
    await settle();
    assert.equal(d.passes, before + 2, 'full again (m2 took the freed place): a pass, which finds nothing');
    await store.ack('b', [m[2] as string], Date.now());
    d.acked('b', [m[2] as string]);
    await settle();
    assert.equal(d.passes, before + 2, 'credit left before the ack: no pass, there was nothing more to hand out');
  });

  it('hands the leases of a consumer that went away to another consumer of the agent when they end', async (t) => {
    const { store, d } = await setup(t, 300);
    // Both open before the hand-out (the first in line gets it), so no subscribe looks at its lease.
    const first = await d.subscribe('b', { prefetch: 1, presence: false });
    const second = await d.subscribe('b', { prefetch: 5, presence: false });
    await settle();
    const id = (await send(store, msg('a', ['b']))).id;
    d.notify(['b']);
    assert.deepEqual(await take(first, 1), [id]);
    await settle();
    first.close();
    // Something else of the agent falls due sooner (as a nack's delay does): the timer moves to it,
    // and the pass it starts must not forget the lease of the consumer that went away.
    d.wakeAt('b', Date.now() + 50);
    // The dispatcher's timers do not hold the process open: this one does, and bounds the wait.
    let guard: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error('not redelivered within 3 s')), 3000)));
    try {
      assert.deepEqual(await Promise.race([take(second, 1), timeout]), [id], 'redelivered once the lease ended, with nothing else happening');
    } finally {
      clearTimeout(guard);
    }
  });
});
