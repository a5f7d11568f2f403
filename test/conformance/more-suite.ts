// More of the Store contract as executable behaviour: leases (hand-out, redelivery, dead letters)
// and the coordination and shared-settings methods. Kept beside suite.ts, and run by the same
// adapter files, so that every adapter passes the same cases (helpers in fixtures.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent, Role } from '../../src/domain/agent.js';
import { newId } from '../../src/domain/ids.js';
import type { Priority } from '../../src/domain/message.js';
import type { Task } from '../../src/domain/task.js';
import type { LeasedItem, LeaseOptions, NewTask, Store } from '../../src/store/store.js';
import { msg, rejects, seed, send, tick } from './fixtures.js';
import type { StoreFactory } from './suite.js';


/** Lease times are given explicitly, far after every message's creation. */
const T = 1_900_000_000_000;





const opts = (now: number, visibilityMs = 1000, maxAttempts = 5): LeaseOptions => ({ now, visibilityMs, maxAttempts });

/** One lease request; the items handed to its owner. */
async function leaseOne(s: Store, agentId: string, owner: string, limit: number, o: LeaseOptions): Promise<LeasedItem[]> {
  return (await s.lease([{ agentId, owner, limit }], o)).get(owner) ?? [];
}

const ids = (items: { message: { id: string } }[]): string[] => items.map((i) => i.message.id);

function newTask(over: Partial<NewTask> = {}): NewTask {
  const at = tick();
  return { id: newId(at), title: 'a task', description: '', points: 1, role: null, capabilities: [], priority: 'regular', createdBy: 'cap', createdAt: at, ...over };
}

const taker = (id: string, role: Role = 'agent', capabilities: string[] = []): Pick<Agent, 'id' | 'role' | 'capabilities'> => ({ id, role, capabilities });

export function moreConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance, leases: ${name}`, () => {
    it('hands out open deliveries urgent first, then oldest, up to the limit, and again once leases end', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const order: [string, Priority][] = [['r1', 'regular'], ['u1', 'urgent'], ['l1', 'low'], ['h1', 'high'], ['u2', 'urgent']];
      for (const [body, priority] of order) await send(s, msg('a', ['b'], { priority, body }));

      const first = await leaseOne(s, 'b', 'o1', 3, opts(T));
      assert.deepEqual(first.map((i) => i.message.body), ['u1', 'u2', 'h1']);
      for (const item of first) {
        assert.equal(item.attempt, 1);
        assert.equal(item.leaseUntil, T + 1000);
        assert.equal(item.delivery.state, 'delivered');
        assert.equal(item.delivery.deliveredAt, T);
        assert.equal(item.delivery.recipient, 'b');
      }
      const handouts = first.map((i) => i.handout);
      assert.deepEqual([...handouts].sort((x, y) => x - y), handouts, 'hand-out numbers follow the order handed out');
      assert.equal(new Set(handouts).size, 3);

      const rest = await leaseOne(s, 'b', 'o2', 10, opts(T + 1));
      assert.deepEqual(rest.map((i) => i.message.body), ['r1', 'l1'], 'leased deliveries are not handed out again');
      assert.ok(Math.min(...rest.map((i) => i.handout)) > Math.max(...handouts), 'hand-out numbers only grow');
      assert.deepEqual(await leaseOne(s, 'b', 'o3', 10, opts(T + 2)), []);
      assert.deepEqual(await leaseOne(s, 'a', 'o4', 10, opts(T + 2)), [], 'the sender has no delivery');
      assert.deepEqual(await s.lease([{ agentId: 'b', owner: 'o5', limit: 0 }], opts(T + 2)), new Map([['o5', []]]));

      const again = await leaseOne(s, 'b', 'o6', 10, opts(T + 1000));
      assert.deepEqual(again.map((i) => i.message.body), ['u1', 'u2', 'h1'], 'ended leases come back, in the same order');
      assert.deepEqual(again.map((i) => i.attempt), [2, 2, 2]);
    });

    it('never hands one delivery to two owners, in one call or in concurrent calls', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const sent: string[] = [];
      for (let i = 0; i < 30; i++) sent.push((await send(s, msg('a', ['b']))).id);

      const one = await s.lease(
        [
          { agentId: 'b', owner: 'x', limit: 2 },
          { agentId: 'b', owner: 'y', limit: 2 },
        ],
        opts(T),
      );
      assert.deepEqual(ids(one.get('x') ?? []), sent.slice(0, 2));
      assert.deepEqual(ids(one.get('y') ?? []), sent.slice(2, 4), 'each request sees the leases of the ones before it');

      const seen = [...ids(one.get('x') ?? []), ...ids(one.get('y') ?? [])];
      for (let round = 0; ; round++) {
        const calls = await Promise.all(['p', 'q', 'r', 's'].map((o) => leaseOne(s, 'b', `${o}${round}`, 3, opts(T + 1))));
        const got = calls.flatMap(ids);
        if (got.length === 0) break;
        seen.push(...got);
      }
      assert.equal(new Set(seen).size, seen.length, 'no delivery handed out twice');
      assert.deepEqual([...seen].sort(), [...sent].sort(), 'every delivery handed out');
    });

    it('marks deliveries of expired messages expired and dead-letters them after maxAttempts hand-outs', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const gone = await send(s, msg('a', ['b'], { expiresAt: T + 5, body: 'gone' }));
      const tired = await send(s, msg('a', ['b'], { body: 'tired' }));
      assert.deepEqual(ids(await leaseOne(s, 'b', 'o', 5, opts(T, 10, 2))), [gone.id, tired.id]);
      const second = await leaseOne(s, 'b', 'o', 5, opts(T + 10, 10, 2));
      assert.deepEqual(ids(second), [tired.id], 'an expired message is not handed out');
      assert.equal(second[0]?.attempt, 2);
      assert.equal((await s.inboxItem('b', gone.id))?.delivery.state, 'expired');

      assert.deepEqual(await leaseOne(s, 'b', 'o', 5, opts(T + 20, 10, 2)), [], 'handed out maxAttempts times: not again');
      assert.equal((await s.inboxItem('b', tired.id))?.delivery.state, 'dead');
      const [dead, ...more] = await s.deadLetters('b', 10);
      assert.deepEqual(more, []);
      assert.equal(dead?.item.message.id, tired.id);
      assert.equal(dead?.item.delivery.state, 'dead');
      assert.equal(dead?.attempts, 2);
      assert.equal(dead?.deadAt, T + 20);
      assert.match(dead?.reason ?? '', /2/);
      assert.deepEqual(
        await s.queueStats(T + 30),
        [{ agent: 'b', depth: 0, inFlight: 0, delayed: 0, redeliveries: 1, dead: 1, acked: 0, expired: 1 }],
        'expired at hand-out and dead are counted: one redelivery, of the dead one',
      );
    });

    it('adoptLeases moves live leases after a hand-out number to a new owner and returns them', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      for (let i = 0; i < 3; i++) await send(s, msg('a', ['b']));
      const leased = await leaseOne(s, 'b', 'old', 3, opts(T));
      const [h1] = leased.map((i) => i.handout);
      const adopted = await s.adoptLeases('b', 'new', h1 ?? 0, T + 1);
      assert.deepEqual(ids(adopted), ids(leased.slice(1)), 'those after the hand-out number, in hand-out order');
      assert.deepEqual(adopted.map((i) => i.handout), leased.slice(1).map((i) => i.handout));
      assert.deepEqual(adopted.map((i) => [i.attempt, i.leaseUntil]), [[1, T + 1000], [1, T + 1000]], 'adopting is not a new hand-out');
      assert.deepEqual(await s.adoptLeases('b', 'other', 0, T + 1000), [], 'ended leases are not adopted');
      assert.deepEqual(await s.adoptLeases('a', 'other', 0, T + 1), []);
      assert.deepEqual(await leaseOne(s, 'b', 'x', 10, opts(T + 2)), [], 'still leased after adoption');
    });

    it('nack ends leases and delays deliveries until visibleAt; all or nothing', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const m1 = await send(s, msg('a', ['b']));
      const m2 = await send(s, msg('a', ['b']));
      await leaseOne(s, 'b', 'o', 10, opts(T));
      assert.deepEqual(await s.nack('b', [m1.id], T + 500, T), [m1.id]);
      assert.deepEqual(await leaseOne(s, 'b', 'o', 10, opts(T + 100)), [], 'delayed, and the other still leased');
      assert.equal(await s.nextWake('b', T + 100), T + 500);
      const back = await leaseOne(s, 'b', 'o', 10, opts(T + 500));
      assert.deepEqual(ids(back), [m1.id]);
      assert.equal(back[0]?.attempt, 2);

      await rejects(s.nack('b', [m2.id, newId()], T + 9000, T + 600), 'message_not_found');
      await rejects(s.nack('a', [m2.id], T + 9000, T + 600), 'message_not_found');
      assert.deepEqual(await leaseOne(s, 'b', 'o', 10, opts(T + 600)), [], 'a refused nack changes nothing: still leased');
      await s.ack('b', [m2.id], T + 700);
      await rejects(s.nack('b', [m1.id, m2.id], T + 9000, T + 800), 'delivery_closed');
      assert.equal(await s.nextWake('b', T + 800), T + 1500, 'm1 still leased after the refused nack');
    });

    it('sweep expires deliveries of expired messages and dead-letters ended leases that used every attempt', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const leased = await send(s, msg('a', ['b']));
      await leaseOne(s, 'b', 'o', 1, opts(T, 10));
      const expiring = await send(s, msg('a', ['b', 'c'], { expiresAt: T + 15 }));
      const live = await send(s, msg('a', ['c']));
      await leaseOne(s, 'c', 'o', 1, opts(T, 10)); // c: `expiring`, leased once, ends at T + 10
      assert.deepEqual(await s.sweep(T + 5, 1), { expired: 0, dead: 0 }, 'nothing is due yet');
      assert.deepEqual(await s.sweep(T + 20, 2), { expired: 2, dead: 0 }, 'the b and c deliveries of the expired message; attempts left');
      assert.equal((await s.inboxItem('c', expiring.id))?.delivery.state, 'expired');
      assert.deepEqual(await s.sweep(T + 20, 1), { expired: 0, dead: 1 });
      assert.equal((await s.inboxItem('b', leased.id))?.delivery.state, 'dead');
      assert.equal((await s.inboxItem('c', live.id))?.delivery.state, 'pending', 'never leased: untouched');
      assert.deepEqual(await s.sweep(T + 30, 1), { expired: 0, dead: 0 });
    });

    it('queueStats counts depth, in flight, delayed, redeliveries, dead, acked and expired per agent; nextWake', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c', 'd');
      // b: one leased, one nacked into the future, one acked.
      const b1 = await send(s, msg('a', ['b']));
      const b2 = await send(s, msg('a', ['b']));
      const b3 = await send(s, msg('a', ['b']));
      assert.deepEqual(ids(await leaseOne(s, 'b', 'o', 1, opts(T))), [b1.id]);
      assert.deepEqual(ids(await leaseOne(s, 'b', 'o', 1, opts(T))), [b2.id]);
      await s.nack('b', [b2.id], T + 5000, T);
      await s.ack('b', [b3.id], T);
      // c: one leased until T + 10 (dead at the sweep), one expiring at T + 15.
      await send(s, msg('a', ['c']));
      await leaseOne(s, 'c', 'o', 1, opts(T, 10));
      await send(s, msg('a', ['c'], { expiresAt: T + 15 }));
      // d: handed out twice.
      await send(s, msg('a', ['d']));
      await leaseOne(s, 'd', 'o', 1, opts(T, 10));
      assert.equal((await leaseOne(s, 'd', 'o', 1, opts(T + 20, 10)))[0]?.attempt, 2);
      assert.deepEqual(await s.sweep(T + 20, 1), { expired: 1, dead: 1 });

      assert.deepEqual(await s.queueStats(T + 20), [
        { agent: 'b', depth: 1, inFlight: 1, delayed: 1, redeliveries: 0, dead: 0, acked: 1, expired: 0 },
        { agent: 'c', depth: 0, inFlight: 0, delayed: 0, redeliveries: 0, dead: 1, acked: 0, expired: 1 },
        { agent: 'd', depth: 0, inFlight: 1, delayed: 0, redeliveries: 1, dead: 0, acked: 0, expired: 0 },
      ]);
      assert.deepEqual((await s.queueStats(T + 6000)).map((q) => [q.agent, q.depth, q.inFlight, q.delayed]), [
        ['b', 2, 0, 0],
        ['c', 0, 0, 0],
        ['d', 1, 0, 0],
      ]);
      assert.equal(await s.nextWake('b', T + 20), T + 1000, 'the earlier of lease end and visibility');
      assert.equal(await s.nextWake('b', T + 1000), T + 5000);
      assert.equal(await s.nextWake('b', T + 5000), null);
      assert.equal(await s.nextWake('c', T + 20), null);
      assert.equal(await s.nextWake('d', T + 20), T + 30);
      assert.equal(await s.nextWake('a', T), null);
    });

    it('lists dead letters oldest first and retries them: all, by agent, by ids; unknown ids change nothing', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const b1 = await send(s, msg('a', ['b']));
      const c1 = await send(s, msg('a', ['c']));
      const b2 = await send(s, msg('a', ['b']));
      const c2 = await send(s, msg('a', ['c']));
      await s.lease(
        [
          { agentId: 'b', owner: 'ob', limit: 10 },
          { agentId: 'c', owner: 'oc', limit: 10 },
        ],
        opts(T, 10),
      );
      assert.deepEqual(await s.sweep(T + 10, 1), { expired: 0, dead: 4 });
      assert.deepEqual(await s.deadLetters(null, 10).then(ids2), [b1.id, c1.id, b2.id, c2.id], 'same time: in send order');
      assert.deepEqual(await s.deadLetters('b', 10).then(ids2), [b1.id, b2.id]);
      assert.deepEqual(await s.deadLetters(null, 1).then(ids2), [b1.id]);
      assert.deepEqual(await s.deadLetters('a', 10), []);

      await rejects(s.retryDead('b', [b1.id, newId()], T + 20), 'message_not_found');
      await rejects(s.retryDead('b', [c1.id], T + 20), 'message_not_found');
      assert.equal((await s.deadLetters(null, 10)).length, 4, 'a refused retry changes nothing');

      assert.deepEqual(await s.retryDead('b', [b1.id], T + 20), [['b', b1.id]]);
      assert.equal((await s.inboxItem('b', b1.id))?.delivery.state, 'pending');
      const again = await leaseOne(s, 'b', 'o', 10, opts(T + 30, 10));
      assert.deepEqual(ids(again), [b1.id]);
      assert.equal(again[0]?.attempt, 1, 'attempts start over');

      assert.deepEqual(await s.retryDead('b', null, T + 40), [['b', b2.id]]);
      const all = await s.retryDead(null, null, T + 40);
      assert.deepEqual([...all].sort(), [['c', c1.id], ['c', c2.id]].sort());
      assert.deepEqual(await s.retryDead(null, null, T + 40), []);
      assert.deepEqual(await s.deadLetters(null, 10), []);
    });

    it('after a long closed history, the open inbox and hand-outs still find every open delivery: new ones, and dead letters retried', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const open = { states: ['pending', 'delivered', 'read'] as const, limit: 100 };
      const bodies = (items: { message: { body: string } }[]): string[] => items.map((i) => i.message.body);
      const dead = await send(s, msg('a', ['b'], { body: 'dead' }));
      const deadToo = await send(s, msg('a', ['b', 'c'], { body: 'dead too' }));
      assert.deepEqual(ids(await leaseOne(s, 'b', 'o1', 10, opts(T, 10))), [dead.id, deadToo.id]);
      assert.deepEqual(await s.sweep(T + 10, 1), { expired: 0, dead: 2 });
      // Closed after it, in every priority: acknowledged, and expired. (Messages to b and c, and to
      // b alone, are stored apart by SQLite when fan-out starts at one recipient: sqlite.test.ts.)
      const closed: string[] = [];
      for (const priority of ['urgent', 'high', 'regular', 'low'] as const) {
        for (let i = 0; i < 5; i++) closed.push((await send(s, msg('a', ['b', 'c'], { priority, body: `${priority}-${i}` }))).id);
      }
      await send(s, msg('a', ['b'], { body: 'expired', expiresAt: T + 15 }));
      await s.ack('b', closed, T + 20);
      await s.sweep(T + 20, 5);
      assert.deepEqual(await s.inbox('b', open), [], 'nothing open');
      assert.deepEqual(await leaseOne(s, 'b', 'o2', 10, opts(T + 30)), [], 'nothing to hand out');
      assert.equal((await s.inbox('b', { states: ['acked', 'dead', 'expired'], limit: 100 })).length, 23, 'the closed history is all there');

      // New deliveries after the closed ones, and the oldest delivery of all open again.
      await send(s, msg('a', ['b'], { priority: 'low', body: 'low-new' }));
      await send(s, msg('a', ['b', 'c'], { priority: 'urgent', body: 'urgent-new' }));
      assert.deepEqual(await s.retryDead('b', [dead.id, deadToo.id], T + 40), [['b', dead.id], ['b', deadToo.id]]);
      assert.deepEqual(bodies(await s.inbox('b', open)), ['urgent-new', 'dead', 'dead too', 'low-new'], 'urgent first, then oldest');
      assert.deepEqual(bodies(await leaseOne(s, 'b', 'o3', 10, opts(T + 50))), ['urgent-new', 'dead', 'dead too', 'low-new']);
      await s.ack('b', [dead.id, deadToo.id], T + 60);
      assert.deepEqual(bodies(await s.inbox('b', open)), ['urgent-new', 'low-new']);
    });

    it('an agent registered after many messages gets what is sent to it next; one removed and registered again keeps its open deliveries', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      for (let i = 0; i < 20; i++) await send(s, msg('a', ['a', 'b'], { body: `before-${i}` }));
      const kept = await send(s, msg('a', ['b'], { body: 'kept' }));
      await seed(s, 'c');
      assert.deepEqual(await s.inbox('c', { states: ['pending', 'delivered', 'read'], limit: 10 }), []);
      await send(s, msg('a', ['b', 'c'], { body: 'after' }));
      assert.deepEqual((await s.inbox('c', { states: ['pending', 'delivered', 'read'], limit: 10 })).map((i) => i.message.body), ['after']);
      await s.removeAgent('b', tick());
      await seed(s, 'b');
      const open = await s.inbox('b', { states: ['pending', 'delivered', 'read'], limit: 100 });
      assert.equal(open.length, 22, 'everything sent to b before its removal is still open');
      assert.ok(open.some((i) => i.message.id === kept.id));
    });

    it('ack with strict refuses already acknowledged ids with already_acked and changes nothing', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b');
      const m1 = await send(s, msg('a', ['b']));
      const m2 = await send(s, msg('a', ['b']));
      assert.deepEqual(await s.ack('b', [m1.id], T, { strict: true }), { acked: [m1.id], already: [] });
      await rejects(s.ack('b', [m2.id, m1.id], T + 1, { strict: true }), 'already_acked');
      assert.notEqual((await s.inboxItem('b', m2.id))?.delivery.state, 'acked', 'a refused ack acknowledges nothing');
      assert.deepEqual(await s.ack('b', [m2.id, m1.id], T + 2), { acked: [m2.id], already: [m1.id] }, 'without strict: idempotent');
      const acked = await s.inboxItem('b', m2.id);
      assert.equal(acked?.delivery.ackedAt, T + 2);
    });

    it('acks committed together: each call all or nothing, leased and unleased ids mixed, an id given twice acknowledged once', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const m: string[] = [];
      for (let i = 0; i < 4; i++) m.push((await send(s, msg('a', ['b', 'c']))).id);
      const [m0, m1, m2, m3] = m as [string, string, string, string];
      assert.deepEqual(ids(await leaseOne(s, 'b', 'ob', 2, opts(T))), [m0, m1]);
      await s.ack('c', [m3], T);
      // Submitted in one turn: one group commit where the store batches acks.
      const [one, two, three, four] = await Promise.allSettled([
        s.ack('b', [m0, m2, m0], T + 1),
        s.ack('c', [m0, newId()], T + 1),
        s.ack('c', [m1, m3], T + 1),
        s.ack('c', [m2, m3], T + 1, { strict: true }),
      ]);
      assert.deepEqual(one, { status: 'fulfilled', value: { acked: [m0, m2], already: [] } }, 'leased, not leased, and the same id again');
      assert.equal(two.status === 'rejected' && (two.reason as { code?: string }).code, 'message_not_found');
      assert.deepEqual(three, { status: 'fulfilled', value: { acked: [m1], already: [m3] } });
      assert.equal(four.status === 'rejected' && (four.reason as { code?: string }).code, 'already_acked');
      assert.notEqual((await s.inboxItem('c', m0))?.delivery.state, 'acked', 'the failed call acknowledged nothing');
      assert.notEqual((await s.inboxItem('c', m2))?.delivery.state, 'acked', 'the refused strict call acknowledged nothing');
      assert.equal((await s.inboxItem('b', m2))?.delivery.ackedAt, T + 1);
      // b's acknowledged deliveries are gone from its hand-outs; m1 is still leased to ob.
      assert.deepEqual(ids(await leaseOne(s, 'b', 'ob2', 10, opts(T + 2))), [m3]);
      assert.deepEqual(ids(await leaseOne(s, 'c', 'oc', 10, opts(T + 2))), [m0, m2]);
    });
  });

  describe(`Store conformance, coordination: ${name}`, () => {
    it('channels: three seeded, create, get, list, channel_exists', async (t) => {
      const s = await make(t);
      const seeded = await s.listChannels();
      assert.deepEqual(seeded.map((c) => [c.name, c.autoJoin, c.createdBy, c.members]), [
        ['deployments', true, 'system', 0],
        ['reports', true, 'system', 0],
        ['reviews', true, 'system', 0],
      ]);
      const infra = await s.createChannel({ name: 'infra', description: 'Infrastructure', autoJoin: false, createdBy: 'cap', createdAt: 1234 });
      assert.deepEqual(infra, { name: 'infra', description: 'Infrastructure', autoJoin: false, createdBy: 'cap', createdAt: 1234, members: 0 });
      assert.deepEqual(await s.getChannel('infra'), infra);
      assert.equal(await s.getChannel('nope'), null);
      await rejects(s.createChannel({ name: 'infra', description: 'again', autoJoin: true, createdBy: 'x', createdAt: 1 }), 'channel_exists');
      await rejects(s.createChannel({ name: 'reviews', description: '', autoJoin: false, createdBy: 'x', createdAt: 1 }), 'channel_exists');
      assert.equal((await s.getChannel('infra'))?.description, 'Infrastructure', 'the first one stays');
      assert.deepEqual((await s.listChannels()).map((c) => c.name), ['deployments', 'infra', 'reports', 'reviews']);
    });

    it('channels: join, leave, members of active agents by id, autoJoin', async (t) => {
      const s = await make(t);
      await seed(s, 'b', 'a', 'c');
      await s.createChannel({ name: 'infra', description: '', autoJoin: false, createdBy: 'cap', createdAt: 1 });
      await s.createChannel({ name: 'all-hands', description: '', autoJoin: true, createdBy: 'cap', createdAt: 1 });
      assert.equal(await s.joinChannel('infra', 'b', tick()), true);
      assert.equal(await s.joinChannel('infra', 'b', tick()), false, 'already a member');
      assert.equal(await s.joinChannel('infra', 'a', tick()), true);
      assert.equal(await s.joinChannel('infra', 'c', tick()), true);
      assert.deepEqual(await s.channelMembers('infra'), ['a', 'b', 'c']);
      assert.equal((await s.getChannel('infra'))?.members, 3);
      await s.removeAgent('c', tick());
      assert.deepEqual(await s.channelMembers('infra'), ['a', 'b'], 'removed agents are not members');
      assert.equal((await s.getChannel('infra'))?.members, 2);
      assert.equal(await s.leaveChannel('infra', 'a'), true);
      assert.equal(await s.leaveChannel('infra', 'a'), false, 'not a member');
      assert.deepEqual(await s.channelMembers('infra'), ['b']);
      assert.deepEqual(await s.channelMembers('nope'), []);

      await s.autoJoin('a', tick());
      await s.autoJoin('a', tick());
      const member = async (c: string): Promise<boolean> => (await s.channelMembers(c)).includes('a');
      assert.deepEqual(await Promise.all(['all-hands', 'deployments', 'reports', 'reviews', 'infra'].map(member)), [true, true, true, true, false]);
      assert.deepEqual((await s.listChannels()).map((c) => [c.name, c.members]), [
        ['all-hands', 1],
        ['deployments', 1],
        ['infra', 1],
        ['reports', 1],
        ['reviews', 1],
      ]);
    });

    it('appendMessage records the channels a message was posted to; history filters by channel', async (t) => {
      const s = await make(t);
      await seed(s, 'a', 'b', 'c');
      const m1 = await send(s, msg('a', ['b', 'c'], { body: 'rollout of the gateway' }), ['deployments']);
      const m2 = await send(s, msg('b', ['a'], { body: 'gateway review' }), ['reviews', 'deployments', 'reviews']);
      const m3 = await send(s, msg('c', ['a'], { body: 'gateway elsewhere' }));
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'deployments', limit: 10 })), [m2.id, m1.id]);
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'reviews', limit: 10 })), [m2.id], 'a channel named twice: once');
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'deployments', limit: 1 })), [m2.id]);
      assert.deepEqual(ids3(await s.history({ viewer: 'c', channel: 'deployments', limit: 10 })), [m1.id], 'respects the viewer');
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'deployments', agent: 'c', limit: 10 })), [m1.id]);
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'deployments', search: 'rollout', limit: 10 })), [m1.id]);
      assert.deepEqual(ids3(await s.history({ viewer: null, channel: 'reports', limit: 10 })), []);
      assert.deepEqual(ids3(await s.history({ viewer: null, search: 'gateway', limit: 10 })), [m3.id, m2.id, m1.id], 'no channel: all');
    });

    it('tasks: create, get, list open by priority then age and the rest newest first, filters', async (t) => {
      const s = await make(t);
      const spec = newTask({ title: 'Fix CI', description: 'red since Monday', points: 8, role: 'agent', capabilities: ['ci', 'ts'], priority: 'high' });
      const created = await s.createTask(spec);
      const expected: Task = { ...spec, status: 'open', assignee: null, claimedAt: null, doneAt: null, note: '', verifiedAt: null, verifiedBy: null, threadId: null };
      assert.deepEqual(created, expected);
      assert.deepEqual(await s.getTask(spec.id), expected);
      assert.equal(await s.getTask(newId()), null);

      const low = await s.createTask(newTask({ priority: 'low' }));
      const urgent = await s.createTask(newTask({ priority: 'urgent' }));
      const high2 = await s.createTask(newTask({ priority: 'high' }));
      const done1 = await s.createTask(newTask());
      const done2 = await s.createTask(newTask());
      for (const d of [done1, done2]) await s.updateTask(d.id, 'open', undefined, { status: 'done', assignee: 'x', doneAt: tick() });
      const listed = (await s.listTasks({ limit: 10 })).map((x) => x.id);
      assert.deepEqual(listed, [urgent.id, created.id, high2.id, low.id, done2.id, done1.id]);
      assert.deepEqual((await s.listTasks({ limit: 2 })).map((x) => x.id), [urgent.id, created.id]);
      assert.deepEqual((await s.listTasks({ status: 'done', limit: 10 })).map((x) => x.id), [done2.id, done1.id]);
      assert.deepEqual((await s.listTasks({ assignee: 'x', limit: 10 })).map((x) => x.id), [done2.id, done1.id]);
      assert.deepEqual((await s.listTasks({ status: 'open', assignee: 'x', limit: 10 })).map((x) => x.id), []);
    });

    it('claimNext takes the best task that fits (role, capabilities; priority, then age), else null', async (t) => {
      const s = await make(t);
      const captainOnly = await s.createTask(newTask({ role: 'captain', priority: 'urgent' }));
      const needsGo = await s.createTask(newTask({ capabilities: ['go'], priority: 'urgent' }));
      const olderRegular = await s.createTask(newTask({ capabilities: ['ts'] }));
      const newerRegular = await s.createTask(newTask());
      const high = await s.createTask(newTask({ priority: 'high', role: 'agent' }));
      const ts = taker('ts-dev', 'agent', ['ts']);

      const first = await s.claimNext(ts, 5000);
      assert.equal(first?.id, high.id);
      assert.deepEqual([first?.status, first?.assignee, first?.claimedAt], ['claimed', 'ts-dev', 5000]);
      assert.deepEqual(await s.getTask(high.id), first);
      assert.equal((await s.claimNext(ts, 5001))?.id, olderRegular.id);
      assert.equal((await s.claimNext(ts, 5002))?.id, newerRegular.id);
      assert.equal(await s.claimNext(ts, 5003), null, 'nothing left that fits');
      assert.equal((await s.claimNext(taker('cap', 'captain', ['go']), 5004))?.id, captainOnly.id);
      assert.equal((await s.claimNext(taker('gopher', 'agent', ['go', 'ts']), 5005))?.id, needsGo.id);
      assert.equal(await s.claimNext(taker('gopher', 'agent', ['go', 'ts']), 5006), null);
    });

    it('claimNext by many agents at once never gives one task twice', async (t) => {
      const s = await make(t);
      const tasks = [];
      for (let i = 0; i < 12; i++) tasks.push((await s.createTask(newTask())).id);
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => s.claimNext(taker(`w${i}`), 6000 + i)));
      const got = claims.flatMap((c) => (c === null ? [] : [c.id]));
      assert.equal(new Set(got).size, got.length, 'no task claimed twice');
      assert.deepEqual([...got].sort(), [...tasks].sort(), 'every task claimed');
      for (const c of claims) if (c !== null) assert.equal((await s.getTask(c.id))?.assignee, c.assignee);
    });

    it('updateTask is compare-and-set on status and, when given, assignee', async (t) => {
      const s = await make(t);
      const task = await s.createTask(newTask());
      assert.equal(await s.updateTask(task.id, 'claimed', undefined, { status: 'done' }), null, 'wrong status');
      assert.equal(await s.updateTask(newId(), 'open', undefined, { status: 'claimed' }), null, 'unknown task');
      const claimed = await s.updateTask(task.id, 'open', undefined, { status: 'claimed', assignee: 'x', claimedAt: 10 });
      assert.deepEqual([claimed?.status, claimed?.assignee, claimed?.claimedAt], ['claimed', 'x', 10]);
      assert.equal(await s.updateTask(task.id, 'claimed', 'y', { status: 'done' }), null, 'wrong assignee');
      assert.equal(await s.updateTask(task.id, 'claimed', null, { status: 'done' }), null, 'null means unassigned');
      const done = await s.updateTask(task.id, 'claimed', 'x', { status: 'done', doneAt: 20, note: 'shipped' });
      assert.deepEqual(await s.getTask(task.id), done);
      assert.deepEqual([done?.status, done?.assignee, done?.doneAt, done?.note, done?.claimedAt], ['done', 'x', 20, 'shipped', 10]);
      const threaded = await s.updateTask(task.id, 'done', undefined, { threadId: 'th-1' });
      assert.deepEqual([threaded?.status, threaded?.threadId], ['done', 'th-1'], 'a patch without status keeps it');

      const racers = await Promise.all(
        ['v1', 'v2', 'v3', 'v4'].map((v, i) => s.updateTask(task.id, 'done', 'x', { status: 'verified', verifiedBy: v, verifiedAt: 30 + i })),
      );
      const won = racers.filter((r) => r !== null);
      assert.equal(won.length, 1, 'exactly one concurrent compare-and-set wins');
      assert.deepEqual(await s.getTask(task.id), won[0]);
    });

    it('reviews: rounds, verdicts in the latest round, unasked reviewers added; leaderboard sums', async (t) => {
      const s = await make(t);
      const t1 = await s.createTask(newTask({ points: 10 }));
      const t2 = await s.createTask(newTask({ points: 5 }));
      const t3 = await s.createTask(newTask({ points: 7 }));
      await s.updateTask(t1.id, 'open', undefined, { status: 'done', assignee: 'x', claimedAt: 100, doneAt: 110 });
      await s.updateTask(t2.id, 'open', undefined, { status: 'done', assignee: 'y', claimedAt: 100, doneAt: 120 });
      await s.updateTask(t3.id, 'open', undefined, { status: 'done', assignee: 'x', claimedAt: 100, doneAt: 300 });

      assert.equal(await s.requestReview(t1.id, ['y', 'r'], 'x', 130), 1);
      await s.decideReview(t1.id, 'r', 'changes', 'needs tests', 140);
      assert.equal(await s.requestReview(t1.id, ['r'], 'x', 150), 2);
      await s.decideReview(t1.id, 'r', 'approved', '', 160);
      await s.decideReview(t1.id, 'z', 'approved', 'drive-by', 170);
      assert.deepEqual(await s.reviewsOf(t1.id), [
        { taskId: t1.id, round: 1, reviewer: 'r', requestedBy: 'x', requestedAt: 130, verdict: 'changes', comment: 'needs tests', decidedAt: 140 },
        { taskId: t1.id, round: 1, reviewer: 'y', requestedBy: 'x', requestedAt: 130, verdict: null, comment: '', decidedAt: null },
        { taskId: t1.id, round: 2, reviewer: 'r', requestedBy: 'x', requestedAt: 150, verdict: 'approved', comment: '', decidedAt: 160 },
        { taskId: t1.id, round: 2, reviewer: 'z', requestedBy: 'z', requestedAt: 170, verdict: 'approved', comment: 'drive-by', decidedAt: 170 },
      ]);
      await s.decideReview(t2.id, 'x', 'approved', 'no request made', 180);
      assert.deepEqual((await s.reviewsOf(t2.id)).map((r) => [r.round, r.reviewer, r.verdict]), [[1, 'x', 'approved']]);
      assert.deepEqual(await s.reviewsOf(newId()), []);

      await s.updateTask(t1.id, 'done', 'x', { status: 'verified', verifiedBy: 'r', verifiedAt: 200 });
      await s.updateTask(t3.id, 'done', 'x', { status: 'verified', verifiedBy: 'r', verifiedAt: 310 });
      assert.deepEqual(await s.leaderboard(null), [
        { agent: 'x', points: 17, tasksVerified: 2, tasksDone: 2, reviewsGiven: 1 },
        { agent: 'r', points: 0, tasksVerified: 0, tasksDone: 0, reviewsGiven: 2 },
        { agent: 'y', points: 0, tasksVerified: 0, tasksDone: 1, reviewsGiven: 0 },
        { agent: 'z', points: 0, tasksVerified: 0, tasksDone: 0, reviewsGiven: 1 },
      ]);
      assert.deepEqual(await s.leaderboard(200), [{ agent: 'x', points: 17, tasksVerified: 2, tasksDone: 1, reviewsGiven: 0 }]);
      assert.deepEqual(await s.leaderboard(305), [{ agent: 'x', points: 7, tasksVerified: 1, tasksDone: 0, reviewsGiven: 0 }]);
      assert.deepEqual(await s.leaderboard(1_000), []);
    });

    it('templates: set, overwrite, get, list by name', async (t) => {
      const s = await make(t);
      assert.deepEqual(await s.listTemplates(), []);
      assert.equal(await s.getTemplate('standup'), null);
      await s.setTemplate({ name: 'standup', body: 'Yesterday: {{y}}', updatedBy: 'cap', updatedAt: 1 });
      await s.setTemplate({ name: 'incident', body: 'Impact: {{impact}}', updatedBy: 'cap', updatedAt: 2 });
      await s.setTemplate({ name: 'standup', body: 'Today: {{t}}', updatedBy: 'lead', updatedAt: 3 });
      assert.deepEqual(await s.getTemplate('standup'), { name: 'standup', body: 'Today: {{t}}', updatedBy: 'lead', updatedAt: 3 });
      assert.deepEqual((await s.listTemplates()).map((x) => [x.name, x.updatedAt]), [['incident', 2], ['standup', 3]]);
    });

    it('settings: versions in order, previous filled from the store, null meaning unset, values as of a version', async (t) => {
      const s = await make(t);
      assert.equal(await s.settingsVersion(), 0);
      assert.deepEqual(await s.currentSettings(), { version: 0, values: new Map() });
      const first = await s.recordSettings(
        [
          { key: 'lease.visibilityMs', value: 30000 },
          { key: 'retention', value: { days: 7, keep: ['reports'] } },
        ],
        'cap',
        'initial',
        100,
      );
      assert.deepEqual(first, [
        { version: 1, key: 'lease.visibilityMs', value: 30000, previous: null, author: 'cap', note: 'initial', createdAt: 100 },
        { version: 2, key: 'retention', value: { days: 7, keep: ['reports'] }, previous: null, author: 'cap', note: 'initial', createdAt: 100 },
      ]);
      const second = await s.recordSettings(
        [
          { key: 'lease.visibilityMs', value: 60000 },
          { key: 'lease.visibilityMs', value: 90000 },
          { key: 'retention', value: null },
          { key: 'banner', value: 'héllo "world"' },
        ],
        'admin',
        'tune',
        200,
      );
      assert.deepEqual(second.map((c) => [c.version, c.key, c.value, c.previous]), [
        [3, 'lease.visibilityMs', 60000, 30000],
        [4, 'lease.visibilityMs', 90000, 60000],
        [5, 'retention', null, { days: 7, keep: ['reports'] }],
        [6, 'banner', 'héllo "world"', null],
      ]);
      assert.equal(await s.settingsVersion(), 6);
      assert.deepEqual(await s.currentSettings(), {
        version: 6,
        values: new Map<string, unknown>([
          ['banner', 'héllo "world"'],
          ['lease.visibilityMs', 90000],
          ['retention', null],
        ]),
      });
      assert.deepEqual(await s.settingsAt(2), new Map<string, unknown>([['lease.visibilityMs', 30000], ['retention', { days: 7, keep: ['reports'] }]]));
      assert.deepEqual(await s.settingsAt(3), new Map<string, unknown>([['lease.visibilityMs', 60000], ['retention', { days: 7, keep: ['reports'] }]]));
      assert.deepEqual(await s.settingsAt(0), new Map());
      assert.equal((await s.settingsAt(99)).size, 3);
      const third = await s.recordSettings([{ key: 'retention', value: { days: 1 } }], 'cap', 'back', 300);
      assert.deepEqual(third.map((c) => [c.version, c.previous]), [[7, null]], 'previous of an unset key is null');

      const history = await s.settingsHistory(3);
      assert.deepEqual(history.map((c) => c.version), [7, 6, 5]);
      assert.deepEqual(history[2], { version: 5, key: 'retention', value: null, previous: { days: 7, keep: ['reports'] }, author: 'admin', note: 'tune', createdAt: 200 });
      assert.equal((await s.settingsHistory(100)).length, 7);
      assert.deepEqual(await s.recordSettings([], 'cap', 'nothing', 400), []);
      assert.equal(await s.settingsVersion(), 7);
    });

    it('settings: concurrent writers get distinct versions in order and a consistent previous chain', async (t) => {
      const s = await make(t);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => s.recordSettings([{ key: 'k', value: i }], `w${i}`, '', 1000 + i)));
      const changes = results.flat().sort((a, b) => a.version - b.version);
      assert.deepEqual(changes.map((c) => c.version), Array.from({ length: 12 }, (_, i) => i + 1));
      changes.forEach((c, i) => assert.deepEqual(c.previous, i === 0 ? null : changes[i - 1]?.value, `previous of version ${c.version}`));
      const history = (await s.settingsHistory(100)).reverse();
      assert.deepEqual(history, changes);
      assert.equal((await s.currentSettings()).values.get('k'), changes.at(-1)?.value);
    });
  });
}

const ids2 = (letters: { item: { message: { id: string } } }[]): string[] => letters.map((d) => d.item.message.id);
const ids3 = (messages: { id: string }[]): string[] => messages.map((m) => m.id);
