// The encryption-at-rest part of the Store contract, for every adapter: the `sealed` mark travels
// with a message through every read (and is absent for plain ones), the re-encryption scan and
// sample, and key rotations: one running at a time, batches written with their progress in one
// transaction only by the rotation's owner, the search index kept consistent with what is written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyRotation, StoredMessage } from '../../src/store/sealing.js';
import type { Store } from '../../src/store/store.js';
import { msg, rejects, seed, send, tick } from './fixtures.js';
import type { StoreFactory } from './suite.js';

function job(over: Partial<KeyRotation> = {}): Omit<KeyRotation, 'total'> {
  const at = tick();
  return { id: `01R${String(at).padStart(23, '0')}`, key: 'k2', previous: 'k1', state: 'running', owner: 'p-1', afterId: '', scanned: 0, rewritten: 0, skipped: 0, startedBy: 'admin', startedAt: at, updatedAt: at, finishedAt: null, error: null, ...over };
}

async function stored(s: Store, id: string): Promise<StoredMessage> {
  const m = await s.getMessage(id);
  assert.ok(m !== null);
  return m as StoredMessage;
}

export function sealingConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance, encryption at rest: ${name}`, () => {
    it('keeps the sealed mark with a message through every read, and none on a plain one', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const sealed: StoredMessage = { ...msg('a', ['b'], { subject: 'c2VhbGVk', body: 'Ym9keQ==', metadata: { $enc: 'bWV0YQ==' } }), sealed: 'k1' };
      const plain = msg('a', ['b'], { body: 'enc:v1:0123456789abcdef:AAAA', metadata: { $enc: 'x' } });
      await send(s, sealed);
      await send(s, plain);
      assert.deepEqual(await s.getMessage(sealed.id), sealed);
      assert.deepEqual(await s.getMessage(plain.id), plain, 'plain, whatever its text looks like: no mark');
      assert.ok(!Object.hasOwn((await s.getMessage(plain.id)) as object, 'sealed'));
      assert.deepEqual((await s.thread(sealed.threadId, null)).map((m) => (m as StoredMessage).sealed), ['k1']);
      assert.deepEqual((await s.history({ viewer: null, limit: 10 })).map((m) => (m as StoredMessage).sealed), [undefined, 'k1']);
      assert.deepEqual((await s.inbox('b', { states: ['pending', 'delivered'], limit: 10 })).map((i) => (i.message as StoredMessage).sealed), ['k1', undefined]);
      assert.equal(((await s.inboxItem('b', sealed.id))?.message as StoredMessage).sealed, 'k1');
      const leased = (await s.lease([{ agentId: 'b', owner: 'o', limit: 10 }], { now: tick(), visibilityMs: 60_000, maxAttempts: 5 })).get('o') ?? [];
      assert.deepEqual(leased.map((i) => (i.message as StoredMessage).sealed), ['k1', undefined]);
    });

    it('scans messages as stored in id order, and samples how the ends and the old-format rows are sealed', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const first = await send(s, { ...msg('a', ['b']), sealed: 'k1' } as StoredMessage);
      const middle = await send(s, msg('a', ['b']));
      const last = await send(s, { ...msg('a', ['b']), sealed: 'k2' } as StoredMessage);
      assert.deepEqual((await s.scanMessages(null, 2)).map((m) => [m.id, m.sealed]), [[first.id, 'k1'], [middle.id, undefined]]);
      assert.deepEqual((await s.scanMessages(middle.id, 10)).map((m) => m.id), [last.id]);
      const sample = await s.sealingSample(10);
      assert.deepEqual(sample.keys.sort(), ['k1', 'k2']);
      assert.deepEqual(sample.legacy, [], 'no row is old-format unless a migration marked it');
    });

    it('runs one key rotation at a time; an abandoned one is replaced in the same transaction', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      assert.equal(await s.keyRotation(), null);
      await send(s, msg('a', ['b']));
      await send(s, msg('a', ['b']));
      const r1 = await s.beginKeyRotation(job(), null);
      assert.equal(r1.total, 2, 'the messages stored when it began');
      assert.deepEqual(await s.keyRotation(), r1);
      await rejects(s.beginKeyRotation(job(), null), 'rotation_running');
      const r2 = await s.beginKeyRotation(job({ owner: 'p-2' }), r1.id);
      assert.equal((await s.keyRotation())?.id, r2.id);
      await rejects(s.beginKeyRotation(job(), r1.id), 'rotation_running');
      // Finished, it makes room for the next.
      assert.equal(await s.saveKeyRotation({ ...r2, state: 'done', finishedAt: tick() }, 'p-2', []), true);
      const r3 = await s.beginKeyRotation(job(), null);
      assert.equal((await s.keyRotation())?.state, 'running');
      assert.equal((await s.keyRotation())?.id, r3.id);
    });

    it('writes a batch with its progress only for the owner, atomically, keeping search consistent', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const m1 = await send(s, msg('a', ['b'], { subject: 'old subject', body: 'alphaword here' }));
      const m2 = await send(s, msg('a', ['b'], { body: 'second' }));
      assert.deepEqual((await s.history({ viewer: null, search: 'alphaword', limit: 10 })).map((m) => m.id), [m1.id]);
      const r = await s.beginKeyRotation(job(), null);
      const content = { id: m1.id, subject: 'new subject', body: 'omegaword here', metadata: { $enc: 'z' }, sealed: 'k2' };
      const progressed: KeyRotation = { ...r, afterId: m1.id, scanned: 1, rewritten: 1, updatedAt: tick() };

      assert.equal(await s.saveKeyRotation({ ...progressed, owner: 'p-x' }, 'p-x', [content]), false, 'not its owner');
      assert.deepEqual(await s.getMessage(m1.id), m1, 'nothing written');
      assert.deepEqual(await s.keyRotation(), r);

      assert.equal(await s.saveKeyRotation(progressed, 'p-1', [content]), true);
      const after = await stored(s, m1.id);
      assert.deepEqual([after.subject, after.body, after.metadata, after.sealed], ['new subject', 'omegaword here', { $enc: 'z' }, 'k2']);
      assert.deepEqual(await stored(s, m2.id), m2);
      assert.deepEqual(await s.keyRotation(), progressed);
      assert.deepEqual((await s.history({ viewer: null, search: 'omegaword', limit: 10 })).map((m) => m.id), [m1.id]);
      assert.deepEqual(await s.history({ viewer: null, search: 'alphaword', limit: 10 }), []);

      // Taken over by another owner: the first one's next batch writes nothing.
      const taken: KeyRotation = { ...progressed, owner: 'p-2', updatedAt: tick() };
      assert.equal(await s.saveKeyRotation(taken, 'p-1', []), true);
      assert.equal(await s.saveKeyRotation({ ...progressed, scanned: 2 }, 'p-1', [{ ...content, id: m2.id, body: 'stale' }]), false);
      assert.equal((await stored(s, m2.id)).body, 'second');
      // Plain content can be written back too (no mark).
      assert.equal(await s.saveKeyRotation({ ...taken, state: 'done', finishedAt: tick() }, 'p-2', [{ ...content, id: m2.id, body: 'plain again', sealed: null }]), true);
      assert.ok(!Object.hasOwn(await stored(s, m2.id), 'sealed'));
      assert.equal(await s.saveKeyRotation({ ...taken, state: 'done' }, 'p-2', []), false, 'a finished rotation is not written again');
    });
  });
}
