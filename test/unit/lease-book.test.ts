// The SQLite store's in-memory hand-out state (src/store/sqlite/lease-book.ts): key order, what a
// queue covers, leases ending. The store's behaviour as a whole is in the conformance suite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentQueue, type Entry } from '../../src/store/sqlite/lease-book.js';

function entry(seq: number, rank = 1, fanout = false): Entry {
  return { seq, rank, fanout, messageId: `m${seq}`, expiresAt: null, state: 'pending', deliveredAt: null, readAt: null, attempts: 0, storedAttempts: 0, visibleAt: null, until: 0, owner: '', handout: 0 };
}

const order = (q: AgentQueue): number[][] => q.ready.map((list) => list.map((e) => e.seq));

describe('lease book', () => {
  it('keeps each rank in seq order, whatever order entries come back in, and never twice', () => {
    const q = new AgentQueue();
    q.bound = null;
    for (const seq of [5, 9, 2, 7, 9]) q.insert(entry(seq));
    q.insert(entry(3, 3));
    assert.deepEqual(order(q), [[], [2, 5, 7, 9], [], [3]]);
    assert.equal(q.readyCount(), 5);
    assert.equal(q.removeReady(1, 7)?.seq, 7);
    assert.equal(q.removeReady(1, 7), undefined, 'gone');
    assert.equal(q.findReady(1, 5)?.messageId, 'm5');
    assert.equal(q.findReady(2, 5), undefined, 'another rank');
  });

  it('covers only keys up to what was read: nothing before the first page, everything once complete', () => {
    const q = new AgentQueue();
    assert.equal(q.covers(3, 1), false, 'nothing read yet');
    q.bound = { rank: 1, seq: 100 };
    assert.equal(q.covers(3, 500), true, 'a higher rank comes before the bound');
    assert.equal(q.covers(1, 100), true, 'the bound itself was read');
    assert.equal(q.covers(1, 101), false, 'after it in the same rank: not read');
    assert.equal(q.covers(0, 1), false, 'a lower rank: not read');
    q.bound = null;
    assert.equal(q.covers(0, 1), true);
  });

  it('knows where the open deliveries of a rank begin, per kind, only for ranks read to their end', () => {
    const q = new AgentQueue();
    assert.equal(q.lowest(1, 1000), undefined, 'nothing read yet');
    q.bound = { rank: 1, seq: 50 };
    for (const e of [entry(20), entry(30, 1, true), entry(40), entry(7, 2, true)]) q.insert(e);
    assert.equal(q.lowest(1, 1000), undefined, 'the bound\'s rank may go on in the table');
    assert.deepEqual(q.lowest(2, 1000), [1000, 7], 'a rank above the bound: all in memory');
    q.bound = null;
    assert.deepEqual(q.lowest(1, 1000), [20, 30]);
    const leased = q.removeReady(1, 20) as Entry;
    q.lease(leased, 5, 'o', 1, 0);
    q.insert(entry(10, 1, true));
    assert.deepEqual(q.lowest(1, 1000), [20, 10], 'leased ones count');
    assert.deepEqual(q.lowest(0, 1000), [1000, 1000], 'none: the given seq');
  });

  it('returns ended leases to their place with their attempts, and keeps the others', () => {
    const q = new AgentQueue();
    q.bound = null;
    for (const seq of [1, 2, 3]) q.insert(entry(seq));
    for (const [i, until] of [1000, 2000, 1000].entries()) {
      const e = q.removeReady(1, i + 1) as Entry;
      q.lease(e, until, 'o', i + 1, 10);
    }
    assert.deepEqual(order(q)[1], []);
    assert.deepEqual(q.returnEnded(999), [], 'nothing ended yet');
    const back = q.returnEnded(1000);
    assert.deepEqual(back.map((e) => e.seq), [1, 3]);
    assert.deepEqual(order(q)[1], [1, 3]);
    assert.deepEqual(back.map((e) => [e.attempts, e.until, e.state, e.deliveredAt]), [[1, 0, 'delivered', 10], [1, 0, 'delivered', 10]]);
    assert.deepEqual([...q.leases.keys()], ['m2']);
    assert.equal(q.minUntil, 2000);
    q.forget('m2', 1, 2);
    q.forget('m1', 1, 1);
    assert.equal(q.leases.size, 0);
    assert.deepEqual(order(q)[1], [3]);
  });

  it('trims to a page, moving the bound back, but never before a leased delivery', () => {
    const q = new AgentQueue();
    q.bound = null;
    for (let seq = 1; seq <= 10; seq++) q.insert(entry(seq, seq <= 2 ? 3 : 1));
    q.trim(4);
    assert.deepEqual(order(q), [[], [3, 4], [], [1, 2]], 'the first four in inbox order: urgent 1, 2, then 3, 4');
    assert.deepEqual(q.bound, { rank: 1, seq: 4 });
    assert.equal(q.covers(1, 5), false, 'what was dropped is read again from the table');

    const r = new AgentQueue();
    r.bound = null;
    for (let seq = 1; seq <= 10; seq++) r.insert(entry(seq));
    const leased = r.removeReady(1, 7) as Entry;
    r.lease(leased, 1000, 'o', 1, 0);
    r.trim(2);
    assert.deepEqual(order(r)[1], [1, 2, 3, 4, 5, 6], 'kept up to the leased one');
    assert.deepEqual(r.bound, { rank: 1, seq: 7 });
    r.returnEnded(1000);
    assert.deepEqual(order(r)[1], [1, 2, 3, 4, 5, 6, 7], 'inside the bound: back to ready');
    r.trim(2);
    assert.deepEqual(order(r)[1], [1, 2]);
    const again = r.removeReady(1, 2) as Entry;
    r.lease(again, 2000, 'o', 2, 0);
    r.trim(0);
    assert.deepEqual(order(r)[1], [1], 'up to the leased 2');
    r.bound = { rank: 1, seq: 1 }; // as if trimmed before it: an ended lease past the bound is not kept
    r.returnEnded(2000);
    assert.deepEqual(order(r)[1], [1]);
  });
});
