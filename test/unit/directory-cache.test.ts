// The PostgreSQL adapter's directory cache on its own (src/store/postgres/directory.ts), with a
// clock and a version of the test's: it answers from memory while the version stays and a poll
// vouched for it recently; a new version, a clear, or a poll that fails or is too old ends that.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/domain/agent.js';
import { DirectoryCache, POLL_MS, STALE_BOUND_MS } from '../../src/store/postgres/directory.js';

const hash = Buffer.from('token-hash');
const match = { tokenId: 't1', agentId: 'x', expiresAt: null, scopes: null };
const agent: Agent = { id: 'x', role: 'agent', specialty: '', capabilities: [], status: 'online', mission: '', createdAt: 0, lastSeenAt: null };

function setup(): { cache: DirectoryCache; clock: { t: number }; db: { version: number; fail: boolean }; poll: () => Promise<void> } {
  const clock = { t: 1000 };
  const db = { version: 1, fail: false };
  const cache = new DirectoryCache(async () => {
    if (db.fail) throw new Error('down');
    return db.version;
  }, () => clock.t);
  // The interval timer is not used: the test polls by calling start()'s poll through a fresh start.
  const poll = (): Promise<void> => (cache as unknown as { poll(): Promise<void> }).poll();
  return { cache, clock, db, poll };
}

describe('directory cache', () => {
  it('answers from memory while the version holds and a poll vouched for it recently', async () => {
    const { cache, clock, poll } = setup();
    await poll();
    const m = cache.mark();
    cache.keepToken(hash, match, m.epoch);
    cache.keepAgent(agent, m.epoch, m.at);
    clock.t += POLL_MS;
    assert.deepEqual(cache.token(hash), match);
    assert.deepEqual(cache.agent('x'), agent);
  });

  it('forgets everything when the version moves', async () => {
    const { cache, db, poll } = setup();
    await poll();
    cache.keepToken(hash, match, cache.mark().epoch);
    db.version = 2;
    await poll();
    assert.equal(cache.token(hash), undefined);
  });

  it('is not used once no poll has succeeded for the trust window, and never past the bound', async () => {
    const { cache, clock, db, poll } = setup();
    await poll();
    cache.keepToken(hash, match, cache.mark().epoch);
    db.fail = true;
    await poll();
    assert.equal(cache.token(hash), undefined, 'a failed poll clears');
    db.fail = false;
    await poll();
    cache.keepToken(hash, match, cache.mark().epoch);
    clock.t += STALE_BOUND_MS; // polls stopped coming (a hung connection)
    assert.equal(cache.token(hash), undefined);
  });

  it('does not keep what a read returned when the cache was cleared while it ran', async () => {
    const { cache, poll } = setup();
    await poll();
    const before = cache.mark();
    cache.clear(); // a notification arrived during the read
    cache.keepToken(hash, match, before.epoch);
    assert.equal(cache.token(hash), undefined);
  });

  it('re-reads agents after a second (status and sightings change without a version)', async () => {
    const { cache, clock, poll } = setup();
    await poll();
    const m = cache.mark();
    cache.keepAgent(agent, m.epoch, m.at);
    clock.t += 500;
    await poll();
    clock.t += 600;
    assert.equal(cache.agent('x'), undefined);
  });
});
