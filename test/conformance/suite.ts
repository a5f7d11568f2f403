// The Store contract as executable behaviour. Every adapter runs this same suite (see the
// *.test.ts files beside it); an adapter is correct when it passes.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import type { Message, Priority } from '../../src/domain/message.js';
import { HubError } from '../../src/errors.js';
import { hashToken, newToken } from '../../src/security/tokens.js';
import type { Store } from '../../src/store/store.js';

export type StoreFactory = (t: TestContext) => Promise<Store>;

let clock = 1_800_000_000_000;
const tick = (): number => (clock += 10);

function msg(sender: string, to: string[], over: Partial<Message> = {}): Message {
  const at = tick();
  const id = newId(at);
  return {
    id,
    sender,
    to,
    kind: 'A2A',
    type: 'text',
    priority: 'regular',
    subject: '',
    body: `hello from ${sender}`,
    tags: [],
    threadId: id,
    replyTo: null,
    metadata: {},
    createdAt: at,
    expiresAt: null,
    idempotencyKey: null,
    ...over,
  };
}

async function seed(store: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await store.createAgent({ id, role: id === 'cap' ? 'captain' : 'agent', specialty: '', capabilities: [], createdAt: tick() });
}

async function send(store: Store, m: Message, recipients = m.to): Promise<Message> {
  const r = await store.appendMessage({ message: m, recipients, requestHash: `h-${m.id}` });
  return r.message;
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof HubError && e.code === code);
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
        assert.deepEqual(await s.findToken(hashToken(token)), { tokenId: 't1', agentId: 'a' });
        assert.equal(await s.findToken(hashToken(newToken())), null);
        assert.equal(await s.hasLiveToken('a'), true);
      });
    });

    describe('messages', () => {
      it('appends a message with one pending delivery per recipient', async (t) => {
        const s = await make(t);
        await seed(s, 'a', 'b', 'c');
        const m = msg('a', ['b', 'c'], { tags: ['x'], metadata: { pr: 42, nested: { ok: true } }, subject: 'Subj', expiresAt: clock + 1e6 });
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
        const since = clock + 1;
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
