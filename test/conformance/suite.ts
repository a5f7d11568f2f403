// The Store contract as executable behaviour. Every adapter runs this same suite (see the
// *.test.ts files beside it); an adapter is correct when it passes.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import type { Message, Priority } from '../../src/domain/message.js';
import type { Task } from '../../src/domain/task.js';
import { hashToken, newToken } from '../../src/security/tokens.js';
import type { NewTask, Store } from '../../src/store/store.js';

import { lastTick, msg, rejects, seed, send, tick } from './fixtures.js';

export type StoreFactory = (t: TestContext) => Promise<Store>;






function newTask(over: Partial<NewTask> = {}): NewTask {
  const at = tick();
  return { id: newId(at), title: 'a task', description: '', points: 10, role: null, capabilities: [], priority: 'regular', createdBy: 'cap', createdAt: at, ...over };
}

async function addTask(store: Store, over: Partial<NewTask> = {}): Promise<Task> {
  return store.createTask(newTask(over));
}

/** Walks a task to `done` (claimed by `assignee`) or `verified` (by `by`), through compare-and-set updates. */
async function finish(store: Store, t: Task, assignee: string, o: { doneAt?: number; verifiedAt?: number; by?: string } = {}): Promise<Task> {
  const claimed = await store.updateTask(t.id, 'open', undefined, { status: 'claimed', assignee, claimedAt: tick() });
  let cur = await store.updateTask(t.id, 'claimed', assignee, { status: 'done', doneAt: o.doneAt ?? tick() });
  assert.ok(claimed !== null && cur !== null);
  if (o.verifiedAt !== undefined) cur = await store.updateTask(t.id, 'done', assignee, { status: 'verified', verifiedAt: o.verifiedAt, verifiedBy: o.by ?? 'cap' });
  assert.ok(cur !== null);
  return cur;
}

export function storeConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    describe('agents', () => {
      it('creates, gets and lists agents ordered by id', async (t) => {
        const s = await make(t);
        await s.createAgent({ id: 'b', role: 'agent', specialty: 'Web', capabilities: ['ts'], createdAt: 1 });
        await s.createAgent({ id: 'a', role: 'captain', specialty: '', capabilities: [], createdAt: 2 });
        const b = await s.getAgent('b');
        assert.deepEqual(
          { id: b?.id, role: b?.role, specialty: b?.specialty, capabilities: b?.capabilities, lastSeenAt: b?.lastSeenAt },
          { id: 'b', role: 'agent', specialty: 'Web', capabilities: ['ts'], lastSeenAt: null },
        );
        assert.deepEqual((await s.listAgents()).map((a) => a.id), ['a', 'b']);
        assert.equal(await s.getAgent('nobody'), null);
      });

      it('refuses a duplicate id with agent_exists and keeps the first', async (t) => {
        const s = await make(t);
        await s.createAgent({ id: 'a', role: 'agent', specialty: 'first', capabilities: [], createdAt: 1 });
        await rejects(s.createAgent({ id: 'a', role: 'captain', specialty: 'second', capabilities: [], createdAt: 2 }), 'agent_exists');
        assert.equal((await s.getAgent('a'))?.specialty, 'first');
      });

      it('removing an agent hides it, revokes its tokens, keeps its messages, and allows re-registering', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const token = newToken();
        await s.createToken({ id: 't1', agentId: 'a', hash: hashToken(token), label: '', createdAt: 1 });
        const m = await send(s, msg('a', ['b']));
        assert.equal(await s.removeAgent('a', tick()), true);
        assert.equal(await s.removeAgent('a', tick()), false);
        assert.equal(await s.getAgent('a'), null);
        assert.equal(await s.findToken(hashToken(token)), null);
        assert.equal(await s.hasLiveToken('a'), false);
        assert.equal((await s.getMessage(m.id))?.sender, 'a');
        await s.createAgent({ id: 'a', role: 'agent', specialty: 'again', capabilities: [], createdAt: tick() });
        assert.equal((await s.getAgent('a'))?.specialty, 'again');
        assert.equal(await s.findToken(hashToken(token)), null, 'old tokens stay revoked after re-registering');
      });

      it('sets status and mission, and last-seen only moves forward', async (t) => {
        const s = await make(t);
        await seed(s, 'a');
        const a = await s.setStatus('a', 'busy', 'fixing CI', 1000);
        assert.equal(a?.status, 'busy');
        assert.equal(a?.mission, 'fixing CI');
        await s.recordSeen(new Map([['a', 5000], ['ghost', 1]]));
        await s.recordSeen(new Map([['a', 3000]]));
        assert.equal((await s.getAgent('a'))?.lastSeenAt, 5000);
        assert.equal(await s.setStatus('ghost', 'online', '', 1), null);
      });
    });

    describe('tokens', () => {
      it('finds a live token by hash only', async (t) => {
        const s = await make(t);
        await seed(s, 'a');
        const token = newToken();
        await s.createToken({ id: 't1', agentId: 'a', hash: hashToken(token), label: 'x', createdAt: 1 });
        assert.deepEqual(await s.findToken(hashToken(token)), { tokenId: 't1', agentId: 'a', expiresAt: null, scopes: null });
        assert.equal(await s.findToken(hashToken(newToken())), null);
        assert.equal(await s.hasLiveToken('a'), true);
      });

      it('keeps expiry and scopes, lists without hashes, revokes one token at once', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const one = newToken();
        const two = newToken();
        await s.createToken({ id: 't1', agentId: 'a', hash: hashToken(one), label: 'ci', createdAt: 1, expiresAt: 5000, scopes: ['message.send', 'inbox.own'] });
        await s.createToken({ id: 't2', agentId: 'b', hash: hashToken(two), label: '', createdAt: 2 });
        assert.deepEqual(await s.findToken(hashToken(one)), { tokenId: 't1', agentId: 'a', expiresAt: 5000, scopes: ['message.send', 'inbox.own'] });
        const all = await s.listTokens(null);
        assert.deepEqual(all.map((x) => x.id), ['t1', 't2']);
        assert.ok(all.every((x) => !('hash' in x)), 'no hashes in lists');
        assert.deepEqual(all[0], { id: 't1', agentId: 'a', label: 'ci', createdAt: 1, expiresAt: 5000, scopes: ['message.send', 'inbox.own'], lastUsedAt: null, revokedAt: null });
        assert.deepEqual((await s.listTokens('b')).map((x) => x.id), ['t2']);
        await s.touchToken('t1', 70);
        await s.touchToken('t1', 60);
        assert.equal((await s.getToken('t1'))?.lastUsedAt, 70);
        assert.deepEqual(await s.revokeToken('t1', 80), { agentId: 'a' });
        assert.equal(await s.revokeToken('t1', 90), null, 'revoking twice changes nothing');
        assert.equal(await s.revokeToken('nope', 90), null);
        assert.equal(await s.findToken(hashToken(one)), null);
        assert.equal((await s.getToken('t1'))?.revokedAt, 80);
        assert.deepEqual((await s.listTokens(null)).map((x) => x.id), ['t2']);
        assert.equal((await s.findToken(hashToken(two)))?.agentId, 'b');
      });

      it('registers observers', async (t) => {
        const s = await make(t);
        const o = await s.createAgent({ id: 'dash', role: 'observer', specialty: '', capabilities: [], createdAt: 1 });
        assert.equal(o.role, 'observer');
      });
    });

    describe('messages', () => {
      it('appends a message with one pending delivery per recipient', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        const m = msg('a', ['b', 'c'], { tags: ['x'], metadata: { pr: 42, nested: { ok: true } }, subject: 'Subj', expiresAt: lastTick() + 1e6 });
        const r = await s.appendMessage({ message: m, recipients: ['b', 'c'], requestHash: 'h' });
        assert.equal(r.status, 'created');
        assert.deepEqual(await s.getMessage(m.id), m);
        assert.deepEqual(await s.recipientsOf(m.id), ['b', 'c']);
        const [item] = await s.inbox('b', { states: ['pending', 'delivered'], limit: 10 });
        assert.equal(item?.message.id, m.id);
        assert.equal(item?.delivery.state, 'delivered', 'listing a pending delivery marks it delivered');
      });

      it('stores a repeated idempotency key once and returns the first message', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const first = msg('a', ['b'], { idempotencyKey: 'k1' });
        const again = msg('a', ['b'], { idempotencyKey: 'k1', body: 'other' });
        assert.equal((await s.appendMessage({ message: first, recipients: ['b'], requestHash: 'h1' })).status, 'created');
        const dup = await s.appendMessage({ message: again, recipients: ['b'], requestHash: 'h2' });
        assert.equal(dup.status, 'duplicate');
        assert.equal(dup.message.id, first.id);
        assert.equal(dup.status === 'duplicate' ? dup.requestHash : '', 'h1');
        assert.deepEqual(dup.recipients, ['b']);
        assert.equal(await s.getMessage(again.id), null);
        const other = msg('b', ['a'], { idempotencyKey: 'k1' });
        assert.equal((await s.appendMessage({ message: other, recipients: ['a'], requestHash: 'h3' })).status, 'created', 'keys are per sender');
      });

      it('group-commits concurrent appends and keeps every one', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const ms = Array.from({ length: 300 }, () => msg('a', ['b']));
        const results = await Promise.all(ms.map((m) => s.appendMessage({ message: m, recipients: ['b'], requestHash: 'h' })));
        assert.deepEqual(results.map((r) => r.message.id), ms.map((m) => m.id));
        const listed = await s.inbox('b', { states: ['pending', 'delivered'], limit: 1000 });
        assert.equal(listed.length, 300);
        assert.deepEqual(listed.map((i) => i.message.id), ms.map((m) => m.id), 'same priority: send order');
      });

      it('same idempotency key twice in one batch is stored once', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const [r1, r2] = await Promise.all([
          s.appendMessage({ message: msg('a', ['b'], { idempotencyKey: 'same' }), recipients: ['b'], requestHash: 'h' }),
          s.appendMessage({ message: msg('a', ['b'], { idempotencyKey: 'same' }), recipients: ['b'], requestHash: 'h' }),
        ]);
        assert.equal(r1?.status, 'created');
        assert.equal(r2?.status, 'duplicate');
        assert.equal(r2?.message.id, r1?.message.id);
      });

      it('lists an inbox urgent first, then oldest, honouring states and limit', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const order: [string, Priority][] = [['r1', 'regular'], ['u1', 'urgent'], ['l1', 'low'], ['h1', 'high'], ['u2', 'urgent']];
        const ids: Record<string, string> = {};
        for (const [name, priority] of order) ids[name] = (await send(s, msg('a', ['b'], { priority, body: name }))).id;
        const bodies = (await s.inbox('b', { states: ['pending', 'delivered', 'read'], limit: 10 })).map((i) => i.message.body);
        assert.deepEqual(bodies, ['u1', 'u2', 'h1', 'r1', 'l1']);
        assert.equal((await s.inbox('b', { states: ['pending', 'delivered'], limit: 2 })).length, 2);
        assert.deepEqual(await s.inbox('a', { states: ['pending', 'delivered'], limit: 10 }), [], 'the sender has no delivery');
      });

      it('reads and acks: states move forward, ack is idempotent and all-or-nothing', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        const m1 = await send(s, msg('a', ['b']));
        const m2 = await send(s, msg('a', ['b']));
        const read = await s.markRead('b', m1.id, tick());
        assert.equal(read?.delivery.state, 'read');
        assert.notEqual(read?.delivery.readAt, null);
        assert.equal(await s.markRead('c', m1.id, tick()), null, 'not a recipient');
        const unread = await s.inbox('b', { states: ['pending', 'delivered'], limit: 10 });
        assert.deepEqual(unread.map((i) => i.message.id), [m2.id]);

        await rejects(s.ack('b', [m1.id, newId()], tick()), 'message_not_found');
        assert.equal((await s.inboxItem('b', m1.id))?.delivery.state, 'read', 'a failed ack changes nothing');
        await rejects(s.ack('c', [m1.id], tick()), 'message_not_found');

        assert.deepEqual(await s.ack('b', [m1.id, m2.id], tick()), { acked: [m1.id, m2.id], already: [] });
        assert.deepEqual(await s.ack('b', [m1.id], tick()), { acked: [], already: [m1.id] });
        assert.deepEqual(await s.inbox('b', { states: ['pending', 'delivered', 'read'], limit: 10 }), []);
        const all = await s.inbox('b', { states: ['pending', 'delivered', 'read', 'acked'], limit: 10 });
        assert.deepEqual(all.map((i) => i.delivery.state), ['acked', 'acked']);
        assert.equal((await s.markRead('b', m1.id, tick()))?.delivery.state, 'acked', 'reading an acked message does not move it back');
      });

      it('threads: oldest first, limited to what the viewer sent or received', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        const root = await send(s, msg('a', ['b']));
        const reply = await send(s, msg('b', ['a'], { threadId: root.threadId, replyTo: root.id }));
        const aside = await send(s, msg('a', ['c'], { threadId: root.threadId }));
        assert.deepEqual((await s.thread(root.threadId, null)).map((m) => m.id), [root.id, reply.id, aside.id]);
        assert.deepEqual((await s.thread(root.threadId, 'b')).map((m) => m.id), [root.id, reply.id]);
        assert.deepEqual((await s.thread(root.threadId, 'c')).map((m) => m.id), [aside.id]);
      });

      it('history filters by viewer, agent, since, type and full-text search, newest first', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        const m1 = await send(s, msg('a', ['b'], { body: 'Deploy the gateway tonight', type: 'deployment' }));
        const since = lastTick() + 1;
        const m2 = await send(s, msg('b', ['c'], { body: 'Review the caching layer', subject: 'Réview request' }));
        const m3 = await send(s, msg('c', ['a'], { body: 'gateway metrics look fine' }));
        assert.deepEqual((await s.history({ viewer: null, limit: 10 })).map((m) => m.id), [m3.id, m2.id, m1.id]);
        assert.deepEqual((await s.history({ viewer: 'a', limit: 10 })).map((m) => m.id), [m3.id, m1.id]);
        assert.deepEqual((await s.history({ viewer: null, agent: 'c', limit: 10 })).map((m) => m.id), [m3.id, m2.id]);
        assert.deepEqual((await s.history({ viewer: null, since, limit: 10 })).map((m) => m.id), [m3.id, m2.id]);
        assert.deepEqual((await s.history({ viewer: null, type: 'deployment', limit: 10 })).map((m) => m.id), [m1.id]);
        assert.deepEqual((await s.history({ viewer: null, search: 'gateway', limit: 10 })).map((m) => m.id), [m3.id, m1.id]);
        assert.deepEqual((await s.history({ viewer: null, search: 'GATEWAY tonight', limit: 10 })).map((m) => m.id), [m1.id]);
        assert.deepEqual((await s.history({ viewer: null, search: 'review', limit: 10 })).map((m) => m.id), [m2.id], 'subject is searched, diacritics folded');
        assert.deepEqual((await s.history({ viewer: 'b', search: 'metrics', limit: 10 })).map((m) => m.id), [], 'search respects the viewer');
        for (const hostile of ['"', 'AND OR NOT', '(gateway', 'gate*', "'; DROP TABLE messages; --", 'NEAR(a b)', '🙂']) {
          await s.history({ viewer: null, search: hostile, limit: 10 });
        }
        assert.equal((await s.history({ viewer: null, limit: 1 })).length, 1);
      });
    });

    describe('channels', () => {
      it('creates, gets and lists channels by name; a taken name is channel_exists and keeps the first', async (t) => {
        const s = await make(t);
        await seed(s, 'a');
        const at = tick();
        const c = await s.createChannel({ name: 'ops', description: 'operations', autoJoin: false, createdBy: 'a', createdAt: at });
        assert.deepEqual(c, { name: 'ops', description: 'operations', autoJoin: false, createdBy: 'a', createdAt: at, members: 0 });
        assert.deepEqual(await s.getChannel('ops'), c);
        assert.equal(await s.getChannel('nope'), null);
        await rejects(s.createChannel({ name: 'ops', description: 'second', autoJoin: true, createdBy: 'a', createdAt: tick() }), 'channel_exists');
        assert.equal((await s.getChannel('ops'))?.description, 'operations');
        await s.createChannel({ name: 'alpha', description: '', autoJoin: false, createdBy: 'a', createdAt: tick() });
        const names = (await s.listChannels()).map((x) => x.name);
        assert.deepEqual(names, [...names].sort(), 'ordered by name');
        for (const n of ['alpha', 'ops', 'deployments', 'reviews', 'reports']) assert.ok(names.includes(n), `${n} is listed`);
        for (const n of ['deployments', 'reviews', 'reports']) assert.equal((await s.getChannel(n))?.autoJoin, true, `#${n} exists on every hub and is auto-join`);
      });

      it('join and leave say whether they changed anything; members are active agents ordered by id', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        await s.createChannel({ name: 'ops', description: '', autoJoin: false, createdBy: 'a', createdAt: tick() });
        for (const id of ['c', 'a', 'b']) assert.equal(await s.joinChannel('ops', id, tick()), true);
        assert.equal(await s.joinChannel('ops', 'a', tick()), false, 'already a member');
        assert.deepEqual(await s.channelMembers('ops'), ['a', 'b', 'c']);
        assert.equal(await s.leaveChannel('ops', 'b'), true);
        assert.equal(await s.leaveChannel('ops', 'b'), false, 'not a member any more');
        assert.deepEqual(await s.channelMembers('ops'), ['a', 'c']);
        await s.removeAgent('c', tick());
        assert.deepEqual(await s.channelMembers('ops'), ['a'], 'removed agents are not members');
        assert.equal((await s.getChannel('ops'))?.members, 1);
        assert.equal((await s.listChannels()).find((x) => x.name === 'ops')?.members, 1);
        assert.deepEqual(await s.channelMembers('nope'), []);
      });

      it('autoJoin joins every auto-join channel and only those, idempotently', async (t) => {
        const s = await make(t);
        await seed(s, 'a');
        await s.createChannel({ name: 'alerts', description: '', autoJoin: true, createdBy: 'a', createdAt: tick() });
        await s.createChannel({ name: 'quiet', description: '', autoJoin: false, createdBy: 'a', createdAt: tick() });
        await s.createAgent({ id: 'x', role: 'agent', specialty: '', capabilities: [], createdAt: tick() });
        await s.autoJoin('x', tick());
        await s.autoJoin('x', tick());
        for (const n of ['alerts', 'deployments', 'reviews', 'reports']) assert.deepEqual((await s.channelMembers(n)).filter((m) => m === 'x'), ['x'], `x is in #${n} once`);
        assert.deepEqual(await s.channelMembers('quiet'), []);
      });

      it('remembers which channels a message was posted to, for channel history', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        await s.createChannel({ name: 'ops', description: '', autoJoin: false, createdBy: 'a', createdAt: tick() });
        const post = (m: Message, channels: string[]) => s.appendMessage({ message: m, recipients: m.to.filter((x) => !x.startsWith('#')), requestHash: `h-${m.id}`, channels });
        const m1 = (await post(msg('a', ['b'], { body: 'deploy the gateway' }), ['ops'])).message;
        const m2 = (await post(msg('a', ['b'], { body: 'direct, no channel' }), [])).message;
        const m3 = (await post(msg('b', ['a', 'c'], { body: 'gateway deployed', type: 'deployment' }), ['ops', 'reports'])).message;
        assert.deepEqual((await s.history({ viewer: null, channel: 'ops', limit: 10 })).map((m) => m.id), [m3.id, m1.id], 'newest first');
        assert.deepEqual((await s.history({ viewer: null, channel: 'reports', limit: 10 })).map((m) => m.id), [m3.id]);
        assert.deepEqual((await s.history({ viewer: null, channel: 'deployments', limit: 10 })).map((m) => m.id), []);
        assert.deepEqual((await s.history({ viewer: null, channel: 'ops', search: 'deployed', limit: 10 })).map((m) => m.id), [m3.id]);
        assert.deepEqual((await s.history({ viewer: null, channel: 'ops', type: 'deployment', limit: 10 })).map((m) => m.id), [m3.id]);
        assert.deepEqual((await s.history({ viewer: null, channel: 'ops', limit: 1 })).map((m) => m.id), [m3.id]);
        assert.deepEqual((await s.history({ viewer: null, limit: 10 })).map((m) => m.id), [m3.id, m2.id, m1.id], 'channel posts are in the full history too');
      });
    });

    describe('tasks', () => {
      it('creates an open task with every field, and gets it back', async (t) => {
        const s = await make(t);
        const input = newTask({ title: 'Migrate CI', description: 'to the new runners', points: 150, role: 'agent', capabilities: ['devops', 'ci'], priority: 'high' });
        const task = await s.createTask(input);
        assert.deepEqual(task, { ...input, status: 'open', assignee: null, claimedAt: null, doneAt: null, note: '', verifiedAt: null, verifiedBy: null, threadId: null });
        assert.deepEqual(await s.getTask(input.id), task);
        assert.equal(await s.getTask(newId()), null);
      });

      it('lists open tasks by priority then age, then the others newest first; filters and limits', async (t) => {
        const s = await make(t);
        const order: [string, Priority][] = [['r1', 'regular'], ['u1', 'urgent'], ['l1', 'low'], ['h1', 'high'], ['u2', 'urgent'], ['r2', 'regular']];
        const ids: Record<string, string> = {};
        for (const [title, priority] of order) ids[title] = (await addTask(s, { title, priority })).id;
        await s.updateTask(ids.r1 ?? '', 'open', undefined, { status: 'claimed', assignee: 'a', claimedAt: tick() });
        await s.updateTask(ids.l1 ?? '', 'open', undefined, { status: 'claimed', assignee: 'b', claimedAt: tick() });
        const titles = async (q: Parameters<Store['listTasks']>[0]) => (await s.listTasks(q)).map((x) => x.title);
        assert.deepEqual(await titles({ limit: 100 }), ['u1', 'u2', 'h1', 'r2', 'l1', 'r1']);
        assert.deepEqual(await titles({ status: 'open', limit: 100 }), ['u1', 'u2', 'h1', 'r2']);
        assert.deepEqual(await titles({ status: 'claimed', limit: 100 }), ['l1', 'r1']);
        assert.deepEqual(await titles({ assignee: 'a', limit: 100 }), ['r1']);
        assert.deepEqual(await titles({ status: 'done', limit: 100 }), []);
        assert.deepEqual(await titles({ limit: 2 }), ['u1', 'u2']);
      });

      it('claimNext takes the best task that fits (role, capabilities, then priority, then age), or null', async (t) => {
        const s = await make(t);
        const dev = { id: 'dev', role: 'agent' as const, capabilities: ['ts'] };
        const ops = { id: 'ops', role: 'agent' as const, capabilities: ['devops', 'ts'] };
        const cap = { id: 'cap', role: 'captain' as const, capabilities: [] };
        const needsDevops = await addTask(s, { title: 'needs devops', capabilities: ['devops'] });
        const low = await addTask(s, { title: 'low', priority: 'low' });
        const captains = await addTask(s, { title: 'captains only', priority: 'urgent', role: 'captain' });
        const ts = await addTask(s, { title: 'high ts', priority: 'high', capabilities: ['ts'] });
        const plain = await addTask(s, { title: 'plain regular' });
        const at = tick();
        const first = await s.claimNext(dev, at);
        assert.equal(first?.id, ts.id);
        assert.equal(first?.status, 'claimed');
        assert.equal(first?.assignee, 'dev');
        assert.equal(first?.claimedAt, at);
        assert.deepEqual(await s.getTask(ts.id), first);
        assert.equal((await s.claimNext(dev, tick()))?.id, plain.id, 'regular, skipping the older devops task that does not fit');
        assert.equal((await s.claimNext(dev, tick()))?.id, low.id);
        assert.equal(await s.claimNext(dev, tick()), null, 'nothing left that fits');
        assert.equal((await s.claimNext(ops, tick()))?.id, needsDevops.id);
        assert.equal(await s.claimNext(ops, tick()), null, 'a role-bound task does not fit another role');
        assert.equal((await s.claimNext(cap, tick()))?.id, captains.id);
        assert.equal(await s.claimNext(cap, tick()), null);
      });

      it('claimNext never hands out the same task twice, however many claim at once', async (t) => {
        const s = await make(t);
        const created = new Set<string>();
        for (let i = 0; i < 60; i++) created.add((await addTask(s, { title: `t${i}`, priority: (['low', 'regular', 'high'] as const)[i % 3] })).id);
        const agents = Array.from({ length: 12 }, (_, i) => ({ id: `w${i}`, role: 'agent' as const, capabilities: [] }));
        const at = tick();
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.claimNext(agents[i % agents.length] ?? agents[0]!, at)));
        const got = results.filter((r): r is Task => r !== null);
        assert.equal(got.length, 60);
        assert.equal(results.filter((r) => r === null).length, 40);
        assert.deepEqual(new Set(got.map((r) => r.id)), created, 'each task exactly once');
        for (const r of got) assert.equal((await s.getTask(r.id))?.assignee, r.assignee);
        assert.deepEqual(await s.listTasks({ status: 'open', limit: 100 }), []);
      });

      it('silentClaims finds claims whose assignee is silent or removed, oldest first, and nothing else', async (t) => {
        const s = await make(t);
        for (const id of ['alive', 'quiet', 'gone', 'late']) await s.createAgent({ id, role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
        await s.recordSeen(new Map([['alive', 900], ['quiet', 100], ['gone', 900], ['late', 100]]));
        await s.removeAgent('gone', 950);
        const claim = async (assignee: string, claimedAt: number): Promise<Task> => {
          const task = await addTask(s, { title: `${assignee}'s` });
          const c = await s.updateTask(task.id, 'open', undefined, { status: 'claimed', assignee, claimedAt });
          assert.ok(c !== null);
          return c;
        };
        await claim('alive', 50);
        const quiet = await claim('quiet', 60);
        const gone = await claim('gone', 40);
        await claim('late', 600); // claimed after the silence began: not yet
        const done = await claim('quiet', 30);
        await s.updateTask(done.id, 'claimed', 'quiet', { status: 'done', doneAt: 70 });
        await addTask(s, { title: 'open' });
        assert.deepEqual((await s.silentClaims(500, 10)).map((x) => x.id), [gone.id, quiet.id]);
        assert.deepEqual((await s.silentClaims(500, 1)).map((x) => x.id), [gone.id], 'at most limit, oldest claim first');
        assert.deepEqual(await s.silentClaims(40, 10), [], 'nothing open claimed before then');
      });

      it('updateTask is a compare-and-set on status (and assignee when given)', async (t) => {
        const s = await make(t);
        const task = await addTask(s, { title: 'cas', points: 40 });
        const claimed = await s.updateTask(task.id, 'open', null, { status: 'claimed', assignee: 'a', claimedAt: 5 });
        assert.deepEqual(claimed, { ...task, status: 'claimed', assignee: 'a', claimedAt: 5 });
        assert.equal(await s.updateTask(task.id, 'open', undefined, { status: 'claimed', assignee: 'b', claimedAt: 6 }), null, 'status moved on');
        assert.equal(await s.updateTask(task.id, 'claimed', 'b', { status: 'done', doneAt: 7 }), null, 'held by someone else');
        assert.deepEqual(await s.getTask(task.id), claimed, 'refused updates changed nothing');
        const done = await s.updateTask(task.id, 'claimed', 'a', { status: 'done', doneAt: 8, note: 'shipped' });
        assert.deepEqual(done, { ...task, status: 'done', assignee: 'a', claimedAt: 5, doneAt: 8, note: 'shipped' });
        const back = await s.updateTask(task.id, 'done', undefined, { threadId: 'thread-1' });
        assert.equal(back?.threadId, 'thread-1');
        assert.equal(back?.status, 'done', 'a patch without status keeps it');
        assert.equal(await s.updateTask(newId(), 'open', undefined, { status: 'claimed' }), null, 'unknown task');

        const race = await addTask(s, { title: 'race' });
        const both = await Promise.all(['x', 'y', 'z'].map((who) => s.updateTask(race.id, 'open', undefined, { status: 'claimed', assignee: who, claimedAt: tick() })));
        const winners = both.filter((r) => r !== null);
        assert.equal(winners.length, 1, 'exactly one concurrent compare-and-set wins');
        assert.equal((await s.getTask(race.id))?.assignee, winners[0]?.assignee);
      });
    });

    describe('reviews and the leaderboard', () => {
      it('review rounds: requested reviewers, verdicts in the latest round, an unasked reviewer added', async (t) => {
        const s = await make(t);
        const task = await addTask(s);
        const at1 = tick();
        assert.equal(await s.requestReview(task.id, ['c', 'b'], 'a', at1), 1);
        const view = async () =>
          (await s.reviewsOf(task.id))
            .map((r) => ({ round: r.round, reviewer: r.reviewer, verdict: r.verdict, comment: r.comment, decided: r.decidedAt !== null }))
            .sort((x, y) => x.round - y.round || x.reviewer.localeCompare(y.reviewer));
        const first = await s.reviewsOf(task.id);
        assert.deepEqual(
          first.map((r) => [r.taskId, r.round, r.requestedBy, r.requestedAt, r.verdict, r.decidedAt]),
          [[task.id, 1, 'a', at1, null, null], [task.id, 1, 'a', at1, null, null]],
        );
        const at2 = tick();
        await s.decideReview(task.id, 'b', 'changes', 'add tests', at2);
        assert.equal((await s.reviewsOf(task.id)).find((r) => r.reviewer === 'b')?.decidedAt, at2);
        assert.equal(await s.requestReview(task.id, ['b'], 'a', tick()), 2);
        await s.decideReview(task.id, 'b', 'approved', '', tick());
        await s.decideReview(task.id, 'cap', 'approved', 'fine by me', tick());
        assert.deepEqual(await view(), [
          { round: 1, reviewer: 'b', verdict: 'changes', comment: 'add tests', decided: true },
          { round: 1, reviewer: 'c', verdict: null, comment: '', decided: false },
          { round: 2, reviewer: 'b', verdict: 'approved', comment: '', decided: true },
          { round: 2, reviewer: 'cap', verdict: 'approved', comment: 'fine by me', decided: true },
        ]);
        const rounds = (await s.reviewsOf(task.id)).map((r) => r.round);
        assert.deepEqual(rounds, [...rounds].sort(), 'oldest round first');
        assert.deepEqual(await s.reviewsOf(newId()), []);
      });

      it('the leaderboard sums verified points per agent, counts done tasks and given reviews, and honours since', async (t) => {
        const s = await make(t);
        assert.deepEqual(await s.leaderboard(null), []);
        const t1 = await finish(s, await addTask(s, { points: 50 }), 'a', { verifiedAt: tick() });
        await finish(s, await addTask(s, { points: 30 }), 'a', { verifiedAt: tick() });
        await s.requestReview(t1.id, ['c', 'd'], 'a', tick());
        await s.decideReview(t1.id, 'c', 'approved', '', tick());
        const since = tick() + 1;
        tick();
        await finish(s, await addTask(s, { points: 20 }), 'b');
        const t4 = await finish(s, await addTask(s, { points: 70 }), 'b', { verifiedAt: tick() });
        await s.requestReview(t4.id, ['c'], 'b', tick());
        await s.decideReview(t4.id, 'c', 'changes', 'typo', tick());
        await addTask(s, { points: 1000 });
        await s.createTask(newTask({ points: 999 })).then((x) => s.updateTask(x.id, 'open', undefined, { status: 'claimed', assignee: 'e', claimedAt: tick() }));

        const rows = await s.leaderboard(null);
        assert.deepEqual(rows, [
          { agent: 'a', points: 80, tasksVerified: 2, tasksDone: 2, reviewsGiven: 0 },
          { agent: 'b', points: 70, tasksVerified: 1, tasksDone: 2, reviewsGiven: 0 },
          { agent: 'c', points: 0, tasksVerified: 0, tasksDone: 0, reviewsGiven: 2 },
        ]);
        const verified = await s.listTasks({ status: 'verified', limit: 100 });
        assert.equal(rows.reduce((n, r) => n + r.points, 0), verified.reduce((n, x) => n + x.points, 0), 'adds up to the verified tasks');
        assert.deepEqual(await s.leaderboard(since), [
          { agent: 'b', points: 70, tasksVerified: 1, tasksDone: 2, reviewsGiven: 0 },
          { agent: 'c', points: 0, tasksVerified: 0, tasksDone: 0, reviewsGiven: 1 },
        ]);
      });
    });

    describe('templates', () => {
      it('gets, lists by name, and overwrites templates', async (t) => {
        const s = await make(t);
        assert.equal(await s.getTemplate('survey'), null);
        assert.deepEqual(await s.listTemplates(), []);
        const survey = { name: 'survey', body: '{agent_id}, rate this cycle', updatedBy: 'cap', updatedAt: tick() };
        const welcome = { name: 'onboarding', body: 'Welcome, {agent_id} 🙂', updatedBy: 'admin', updatedAt: tick() };
        await s.setTemplate(survey);
        await s.setTemplate(welcome);
        assert.deepEqual(await s.getTemplate('survey'), survey);
        assert.deepEqual(await s.listTemplates(), [welcome, survey]);
        const again = { name: 'survey', body: 'Rate it, {agent_id}', updatedBy: 'Agent-4', updatedAt: tick() };
        await s.setTemplate(again);
        assert.deepEqual(await s.getTemplate('survey'), again);
        assert.deepEqual(await s.listTemplates(), [welcome, again]);
      });
    });

    describe('lifecycle', () => {
      it('reports a current schema and answers ping', async (t) => {
        const s = await make(t);
        await s.ping();
        const schema = await s.schema();
        assert.equal(schema.current, schema.latest);
        assert.ok(schema.latest >= 1);
      });

      it('close() commits appends already submitted, then refuses work', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b');
        const pending = Array.from({ length: 20 }, () => s.appendMessage({ message: msg('a', ['b']), recipients: ['b'], requestHash: 'h' }));
        await s.close();
        const results = await Promise.all(pending);
        assert.equal(results.length, 20);
        await assert.rejects(s.ping());
      });
    });
  });
}
