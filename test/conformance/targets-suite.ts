// The Store contract for delivery targets: a send queues a copy for each target whose filter lets
// it through, in the send's own transaction; leases are exclusive and run out; settlements count
// only for the lease's owner; dead pushes keep their last error and come back on retry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import { NO_FILTER, type TargetFilter, type TargetSettings } from '../../src/domain/target.js';
import type { NewTarget, Store } from '../../src/store/store.js';
import { msg, seed, send, tick } from './fixtures.js';
import type { StoreFactory } from './suite.js';

const T = 1_900_000_000_000;
const hook: TargetSettings = { kind: 'webhook', url: 'http://127.0.0.1:9/hook', timeoutMs: 5000 };

function target(agentId: string, filter: Partial<TargetFilter> = {}, over: Partial<NewTarget> = {}): NewTarget {
  const at = tick();
  return { id: newId(at), agentId, settings: hook, secret: '', filter: { ...NO_FILTER, ...filter }, createdBy: agentId, createdAt: at, ...over };
}

const bodies = async (s: Store, targetId: string, owner = 'w', limit = 100, now = T): Promise<string[]> =>
  (await s.leaseTargetDeliveries(targetId, owner, limit, now, 60_000, 5)).map((l) => l.message.body);

export function targetsConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance, delivery targets: ${name}`, () => {
    it('stores targets with their settings, secret and filter; lists them per agent or all; removes one with its queue', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const tmux: TargetSettings = { kind: 'tmux', pane: 'agents:1.0', allowShell: false, idleMs: 500, socket: '' };
      const t1 = await s.createTarget(target('b', { minPriority: 'high', types: ['text', 'report'], channels: ['ops'], senders: ['a'] }, { secret: 's3cret' }));
      const t2 = await s.createTarget(target('b', {}, { settings: tmux }));
      const t3 = await s.createTarget(target('c'));
      assert.deepEqual(t1.filter, { minPriority: 'high', types: ['text', 'report'], channels: ['ops'], senders: ['a'] });
      assert.equal(t1.secret, 's3cret');
      assert.deepEqual(t2.settings, tmux);
      assert.deepEqual(t2.filter, NO_FILTER);
      assert.deepEqual({ ...t1, lastSuccessAt: null }, { ...(await s.getTarget(t1.id)), lastSuccessAt: null });
      assert.deepEqual((await s.listTargets('b')).map((x) => x.id), [t1.id, t2.id]);
      assert.deepEqual((await s.listTargets(null)).map((x) => x.id), [t1.id, t2.id, t3.id]);
      await send(s, msg('a', ['b']));
      assert.equal(await s.removeTarget(t2.id), true);
      assert.equal(await s.removeTarget(t2.id), false);
      assert.equal(await s.getTarget(t2.id), null);
      assert.deepEqual((await s.targetBacklog([t2.id])).get(t2.id), { pending: 0, dead: 0, oldestAt: null }, 'its queue went with it');
    });

    it('queues a copy of each sent message for every target of a recipient whose filter lets it through', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c', 'cap');
      const all = await s.createTarget(target('b'));
      const urgent = await s.createTarget(target('b', { minPriority: 'high' }));
      const reports = await s.createTarget(target('b', { types: ['report'] }));
      const fromCap = await s.createTarget(target('b', { senders: ['cap'] }));
      const ops = await s.createTarget(target('b', { channels: ['ops'] }));
      const other = await s.createTarget(target('c'));
      await send(s, msg('a', ['b'], { body: 'plain' }));
      await send(s, msg('a', ['b'], { body: 'urgent', priority: 'urgent' }));
      await send(s, msg('a', ['b', 'c'], { body: 'report', type: 'report' }));
      await send(s, msg('cap', ['b'], { body: 'captain' }));
      const onOps = msg('a', ['#ops'], { body: 'on ops' });
      await s.appendMessage({ message: onOps, recipients: ['b', 'c'], requestHash: `h-${onOps.id}`, channels: ['ops'] });
      await send(s, msg('a', ['c'], { body: 'to c only' }));
      assert.deepEqual(await bodies(s, all.id), ['plain', 'urgent', 'report', 'captain', 'on ops']);
      assert.deepEqual(await bodies(s, urgent.id), ['urgent']);
      assert.deepEqual(await bodies(s, reports.id), ['report']);
      assert.deepEqual(await bodies(s, fromCap.id), ['captain']);
      assert.deepEqual(await bodies(s, ops.id), ['on ops']);
      assert.deepEqual(await bodies(s, other.id), ['report', 'on ops', 'to c only']);
      const dup = msg('a', ['b'], { body: 'again', idempotencyKey: 'k1' });
      await send(s, dup);
      await send(s, { ...dup, id: newId(tick()) });
      assert.deepEqual(await bodies(s, all.id, 'w2', 100, T + 60_001), ['plain', 'urgent', 'report', 'captain', 'on ops', 'again'], 'a duplicate send queues nothing more');
    });

    it('leases a push to one worker at a time until its lease runs out, with the attempt number', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const tg = await s.createTarget(target('b'));
      for (const body of ['m1', 'm2', 'm3']) await send(s, msg('a', ['b'], { body }));
      const [first, second] = await Promise.all([s.leaseTargetDeliveries(tg.id, 'w1', 2, T, 1000, 5), s.leaseTargetDeliveries(tg.id, 'w2', 2, T, 1000, 5)]);
      const got = [...(first ?? []), ...(second ?? [])].map((l) => l.message.body).sort();
      assert.deepEqual(got, ['m1', 'm2', 'm3'], 'each push to one of the two workers');
      assert.deepEqual(await bodies(s, tg.id, 'w3', 10, T + 999), [], 'nothing while leased');
      const again = await s.leaseTargetDeliveries(tg.id, 'w3', 10, T + 1000, 1000, 5);
      assert.deepEqual(again.map((l) => [l.message.body, l.attempt]), [['m1', 2], ['m2', 2], ['m3', 2]], 'a lease that ran out: due again, attempt 2');
    });

    it('settles only the owner\'s lease: done deletes, a failure retries later or goes dead with its error; the target keeps its last success and error', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const tg = await s.createTarget(target('b'));
      const [m1, m2, m3] = [await send(s, msg('a', ['b'], { body: 'm1' })), await send(s, msg('a', ['b'], { body: 'm2' })), await send(s, msg('a', ['b'], { body: 'm3' }))];
      await s.leaseTargetDeliveries(tg.id, 'w1', 10, T, 1000, 5);
      assert.equal(await s.settleTargetDelivery(tg.id, m1.id, 'intruder', { ok: true, at: T + 1 }), false, 'not the owner');
      assert.equal(await s.settleTargetDelivery(tg.id, m1.id, 'w1', { ok: true, at: T + 1 }), true);
      assert.equal(await s.settleTargetDelivery(tg.id, m1.id, 'w1', { ok: true, at: T + 1 }), false, 'settled once');
      assert.equal(await s.settleTargetDelivery(tg.id, m2.id, 'w1', { ok: false, at: T + 2, error: 'HTTP 503', retryAt: T + 500, dead: false }), true);
      assert.equal(await s.settleTargetDelivery(tg.id, m3.id, 'w1', { ok: false, at: T + 3, error: 'HTTP 404', retryAt: 0, dead: true }), true);
      const after = await s.getTarget(tg.id);
      assert.equal(after?.lastSuccessAt, T + 1);
      assert.equal(after?.lastError, 'HTTP 404');
      assert.equal(after?.lastErrorAt, T + 3);
      assert.deepEqual((await s.targetBacklog([tg.id])).get(tg.id), { pending: 1, dead: 1, oldestAt: m2.createdAt });
      assert.deepEqual(await bodies(s, tg.id, 'w2', 10, T + 499), [], 'a retry waits for its time');
      const retried = await s.leaseTargetDeliveries(tg.id, 'w2', 10, T + 500, 1000, 5);
      assert.deepEqual(retried.map((l) => [l.message.body, l.attempt]), [['m2', 2]]);
      assert.equal(await s.retryTargetDead(tg.id, T + 600), 1);
      assert.deepEqual((await s.leaseTargetDeliveries(tg.id, 'w3', 10, T + 600, 1000, 5)).map((l) => [l.message.body, l.attempt]), [['m3', 1]], 'back with attempts reset');
    });

    it('sends a push whose lease ran out on its last attempt to the dead, naming why', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const tg = await s.createTarget(target('b'));
      await send(s, msg('a', ['b'], { body: 'lost' }));
      assert.equal((await s.leaseTargetDeliveries(tg.id, 'w1', 1, T, 1000, 2)).length, 1);
      assert.equal((await s.leaseTargetDeliveries(tg.id, 'w2', 1, T + 1000, 1000, 2)).length, 1);
      assert.deepEqual(await s.leaseTargetDeliveries(tg.id, 'w3', 1, T + 2000, 1000, 2), []);
      assert.deepEqual((await s.targetBacklog([tg.id])).get(tg.id), { pending: 0, dead: 1, oldestAt: null });
    });
  });
}
