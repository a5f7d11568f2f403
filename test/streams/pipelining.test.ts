// Frames pipelined on one WebSocket, against a real hub process (either store): sends and acks
// written without waiting share group commits (read from the hub's own /metrics), yet commit and
// reach the recipient in the order they came, and every answer leaves in frame order. A nack waits
// for the frames before it (a nack of a delivery acked just before is refused); a repeated
// idempotency key in the same burst stays one message.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { spawnHub, type HubProcess } from '../support/process.js';
import { testStore } from '../support/store.js';
import { addAgent, openWs, type Frame } from './clients.js';

const FRAMES = 200;

async function hub(t: TestContext): Promise<HubProcess> {
  const store = testStore(t);
  const h = await spawnHub(store.dir, { store, env: { SWARM_AGENT_RATE: '0', SWARM_PREFETCH: String(FRAMES) } });
  t.after(() => h.stop());
  return h;
}

/** Count of group commits of one kind (send or ack) so far, from the hub's /metrics. */
async function commits(url: string, kind: 'send' | 'ack'): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`swarm_group_commit_size_count{kind="${kind}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** The answers to frames s0…s(n-1), in the order they arrived. */
function answers(all: Frame[], prefix: string): Frame[] {
  return all.filter((f) => typeof f.id === 'string' && f.id.startsWith(prefix));
}

describe('frames pipelined on one WebSocket', () => {
  it(`${FRAMES} sends and then ${FRAMES} one-id acks written at once share commits, commit in order and are answered in order`, async (t) => {
    const h = await hub(t);
    const sender = await openWs(t, h.url, { token: await addAgent(h.url, h.adminToken, 'Agent-S') });
    const consumer = await openWs(t, h.url, { token: await addAgent(h.url, h.adminToken, 'Agent-1'), query: { prefetch: FRAMES } });

    const sendsBefore = await commits(h.url, 'send');
    for (let i = 0; i < FRAMES; i++) sender.send({ type: 'send', id: `s${i}`, message: { to: 'Agent-1', body: `n=${i}` } });
    await sender.next((f) => f.id === `s${FRAMES - 1}`, 15_000, 'the last answer');
    const sent = answers(sender.all, 's');
    assert.deepEqual(sent.map((f) => f.id), Array.from({ length: FRAMES }, (_, i) => `s${i}`), 'answers in frame order');
    assert.ok(sent.every((f) => f.type === 'sent'), JSON.stringify(sent.find((f) => f.type !== 'sent')));
    const ids = sent.map((f) => f.message.id as string);
    assert.deepEqual([...ids].sort(), ids, 'message ids in send order');
    const sendCommits = (await commits(h.url, 'send')) - sendsBefore;
    // One frame at a time would be one commit per send.
    assert.ok(sendCommits <= FRAMES / 4, `${FRAMES} pipelined sends took ${sendCommits} commits`);

    const received: Frame[] = [];
    while (received.length < FRAMES) received.push(await consumer.nextOf('delivery', 10_000));
    assert.deepEqual(received.map((d) => d.message.id), ids, 'received in send order');

    const acksBefore = await commits(h.url, 'ack');
    ids.forEach((id, i) => consumer.send({ type: 'ack', id: `a${i}`, ids: [id] }));
    await consumer.next((f) => f.id === `a${FRAMES - 1}`, 15_000, 'the last ack answer');
    const acked = answers(consumer.all, 'a');
    assert.deepEqual(acked.map((f) => f.id), Array.from({ length: FRAMES }, (_, i) => `a${i}`), 'ack answers in frame order');
    assert.deepEqual(acked.map((f) => f.acked), ids.map((id) => [id]));
    const ackCommits = (await commits(h.url, 'ack')) - acksBefore;
    assert.ok(ackCommits <= FRAMES / 4, `${FRAMES} pipelined acks took ${ackCommits} commits`);
    const queue = await (await fetch(`${h.url}/v1/queue?agent=Agent-1`, { headers: { authorization: `Bearer ${h.adminToken}` } })).json();
    const q = (queue as any).agents[0];
    assert.deepEqual([q.depth, q.in_flight, q.acked], [0, 0, FRAMES], JSON.stringify(q));
  });

  it('answers mixed frames in order: a bad frame and a refusal between sends change nothing and hold nothing up', async (t) => {
    const h = await hub(t);
    const sender = await openWs(t, h.url, { token: await addAgent(h.url, h.adminToken, 'Agent-S') });
    await addAgent(h.url, h.adminToken, 'Agent-1');
    const raw = sender.ws;
    raw.send(JSON.stringify({ type: 'send', id: 'm0', message: { to: 'Agent-1', body: 'first' } }));
    raw.send('{not json');
    raw.send(JSON.stringify({ type: 'send', id: 'm2', message: { to: 'Agent-404', body: 'nobody' } }));
    raw.send(JSON.stringify({ type: 'ping', id: 'm3' }));
    raw.send(JSON.stringify({ type: 'send', id: 'm4', message: { to: 'Agent-1', body: 'again', idempotency_key: 'k1' } }));
    raw.send(JSON.stringify({ type: 'send', id: 'm5', message: { to: 'Agent-1', body: 'again', idempotency_key: 'k1' } }));
    raw.send(JSON.stringify({ type: 'ack', id: 'm6', ids: ['01HZZZZZZZZZZZZZZZZZZZZZZZ'] }));
    raw.send(JSON.stringify({ type: 'send', id: 'm7', message: { to: 'Agent-1', body: 'last' } }));
    await sender.next((f) => f.id === 'm7', 10_000, 'the last answer');
    const got = sender.all.filter((f) => f.type !== 'ready' && f.type !== 'delivery');
    assert.deepEqual(
      got.map((f) => [f.id, f.type, f.code]),
      [
        ['m0', 'sent', undefined],
        [undefined, 'error', 'bad_frame'],
        ['m2', 'error', 'unknown_recipient'],
        ['m3', 'pong', undefined],
        ['m4', 'sent', undefined],
        ['m5', 'sent', undefined],
        ['m6', 'error', 'message_not_found'],
        ['m7', 'sent', undefined],
      ],
    );
    const [m4, m5] = [got[4] as Frame, got[5] as Frame];
    assert.equal(m5.duplicate, true);
    assert.equal(m5.message.id, m4.message.id, 'one message for one idempotency key');
    const inbox = await (await fetch(`${h.url}/v1/inbox?limit=100`, { headers: { authorization: `Bearer ${h.adminToken}`, 'x-swarm-as': 'Agent-1' } })).json();
    assert.deepEqual(((inbox as any).items as Frame[]).map((i) => i.message.body).sort(), ['again', 'first', 'last']);
  });

  it('a nack waits for the ack written before it: acked first, so the nack is refused and the delivery stays acked', async (t) => {
    const h = await hub(t);
    const token = await addAgent(h.url, h.adminToken, 'Agent-1');
    const sender = await openWs(t, h.url, { token: await addAgent(h.url, h.adminToken, 'Agent-S') });
    const consumer = await openWs(t, h.url, { token });
    sender.send({ type: 'send', id: 's', message: { to: 'Agent-1', body: 'once' } });
    const d = await consumer.nextOf('delivery', 10_000);
    consumer.send({ type: 'ack', id: 'a', ids: [d.message.id] });
    consumer.send({ type: 'nack', id: 'n', ids: [d.message.id] });
    const n = await consumer.next((f) => f.id === 'n', 10_000, 'the nack answer');
    const a = consumer.all.find((f) => f.id === 'a') as Frame;
    assert.deepEqual(a.acked, [d.message.id]);
    assert.equal(consumer.all.indexOf(a) < consumer.all.indexOf(n), true, 'ack answered first');
    assert.deepEqual([n.type, n.code], ['error', 'delivery_closed'], JSON.stringify(n));
  });
});
