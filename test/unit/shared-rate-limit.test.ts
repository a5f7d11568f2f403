// The hub-wide send limit (src/security/shared-rate-limit.ts) against a bucket of the test's own,
// standing in for swarm_take_tokens: concurrent sends of one agent share one fetch and are refused
// only when the bucket is short; an empty bucket refuses without asking again until it can have
// refilled; never more is admitted than the bucket grants.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubError } from '../../src/errors.js';
import { SharedRateLimiter } from '../../src/security/shared-rate-limit.js';

/** A token bucket like the database's, counting the round trips made to it. */
function bucket(): { take: (k: string, rate: number, burst: number, want: number, now: number) => Promise<{ granted: number; remaining: number }>; calls: number; granted: number } {
  let tokens: number | null = null;
  let at = 0;
  const b = {
    calls: 0,
    granted: 0,
    take: async (_k: string, rate: number, burst: number, want: number, now: number) => {
      b.calls += 1;
      await new Promise((r) => setImmediate(r)); // a round trip: concurrent callers pile up meanwhile
      tokens = tokens === null ? burst : Math.min(burst, tokens + ((now - at) * rate) / 1000);
      at = Math.max(at, now);
      const granted = Math.min(want, Math.floor(tokens));
      tokens -= granted;
      b.granted += granted;
      return { granted, remaining: tokens };
    },
  };
  return b;
}

const refused = (e: unknown): boolean => e instanceof HubError && e.code === 'rate_limited';

describe('shared rate limit', () => {
  it('admits concurrent sends up to the bucket, in few round trips, and refuses the rest', async () => {
    const b = bucket();
    const limiter = new SharedRateLimiter(() => ({ rate: 20, burst: 100 }), b.take, 'sends');
    const results = await Promise.allSettled(Array.from({ length: 150 }, () => limiter.charge('Agent-1', 1000, 'too fast')));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(ok, 100, 'the burst, all of it, and no more');
    assert.ok(results.every((r) => r.status === 'fulfilled' || refused(r.reason)));
    assert.ok(b.calls <= 10, `${b.calls} round trips for 150 concurrent sends`);
    assert.equal(b.granted, 100);
  });

  it('refuses locally, without a round trip, until the empty bucket can have refilled a token', async () => {
    const b = bucket();
    const limiter = new SharedRateLimiter(() => ({ rate: 10, burst: 1 }), b.take, 'sends');
    await limiter.charge('Agent-1', 1000, 'too fast');
    await assert.rejects(limiter.charge('Agent-1', 1000, 'too fast'), refused);
    const calls = b.calls;
    await assert.rejects(limiter.charge('Agent-1', 1050, 'too fast'), refused);
    assert.equal(b.calls, calls, 'no round trip while the bucket cannot have a token');
    await limiter.charge('Agent-1', 1100, 'too fast'); // 100 ms at 10/s: one token again
    assert.equal(b.granted, 2);
  });

  it('takes chunks of a tenth of a second: one round trip serves several sends', async () => {
    const b = bucket();
    const limiter = new SharedRateLimiter(() => ({ rate: 200, burst: 200 }), b.take, 'sends');
    for (let i = 0; i < 40; i++) await limiter.charge('Agent-1', 1000, 'too fast');
    assert.equal(b.calls, 2, '20 tokens a chunk');
  });
});
