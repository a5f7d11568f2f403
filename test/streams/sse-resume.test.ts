// SSE over a real socket: a client that acks each delivery over HTTP, drops the connection and
// resumes with Last-Event-ID gets exactly what it missed: nothing it acked, nothing twice, nothing
// lost, including deliveries the hub wrote after the client stopped reading.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertProblem } from '../http/expect.js';
import { http, startStreamApp, send, SseClient, type SseEvent, until } from './clients.js';

async function ack(base: string, token: string, ev: SseEvent): Promise<void> {
  const r = await http(base, 'POST', '/v1/ack', { token, body: { ids: [ev.data.message.id] } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.acked, [ev.data.message.id]);
}

/** Waits until the hub has noticed that the agent's streams closed. */
async function noStreams(base: string, token: string, agent: string): Promise<void> {
  await until('the hub to see the stream close', async () => {
    const r = await http(base, 'GET', `/v1/queue?agent=${agent}`, { token });
    const row = r.json.agents.find((a: any) => a.agent === agent);
    return row === undefined || row.streams === 0;
  });
}

describe('SSE resume with Last-Event-ID', () => {
  it('after a disconnect, delivers exactly the messages missed: none acked, none twice, none missing', async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push(await send(base, sender, { to: 'Agent-1', body: `before ${i}` }));

    const s1 = await SseClient.open(t, base, { token });
    assert.match(s1.contentType, /^text\/event-stream/);
    const ready = await s1.next('ready');
    assert.equal(ready.data.agent, 'Agent-1');
    const seen: string[] = [];
    let last = '';
    for (let i = 0; i < 3; i++) {
      const ev = await s1.next('delivery');
      assert.equal(ev.id, String(ev.data.event_id), 'the SSE id is the event id');
      seen.push(ev.data.message.id);
      await ack(base, token, ev);
      last = ev.id as string;
    }
    assert.deepEqual(seen, sent);
    s1.abort();
    await noStreams(base, token, 'Agent-1');

    const missed: string[] = [];
    for (let i = 0; i < 4; i++) missed.push(await send(base, sender, { to: 'Agent-1', body: `while away ${i}` }));

    const s2 = await SseClient.open(t, base, { token, lastEventId: last });
    await s2.next('ready');
    const resumed: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ev = await s2.next('delivery');
      assert.ok(Number(ev.id) > Number(last), 'event ids keep increasing across connections');
      resumed.push(ev.data.message.id);
      await ack(base, token, ev);
    }
    assert.deepEqual(resumed, missed, 'exactly the missed messages, in send order');
    // Nothing more comes: no acked message again, no duplicate.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(s2.inbox.filter((e) => e.event === 'delivery'), []);
    const inbox = await http(base, 'GET', '/v1/inbox', { token });
    assert.deepEqual(inbox.json.items, [], 'every message was acked once');
    const all = await http(base, 'GET', '/v1/inbox?all=true', { token });
    assert.equal(all.json.items.length, 7);
    assert.ok(all.json.items.every((i: any) => i.delivery.state === 'acked'));
  });

  it('a delivery written after the client stopped reading comes back on resume, at once', async (t) => {
    const { h, base } = await startStreamApp(t); // visibility 30 s: a redelivery within seconds is the resume, not the lease
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(base, sender, { to: 'Agent-1', body: `m${i}` }));

    const s1 = await SseClient.open(t, base, { token });
    const first = await s1.next('delivery');
    assert.equal(first.data.message.id, sent[0]);
    await ack(base, token, first);
    // The hub handed out all five; the client processes only the first and crashes.
    await until('all five hand-outs', () => s1.all.filter((e) => e.event === 'delivery').length === 5);
    s1.abort();
    await noStreams(base, token, 'Agent-1');
    const q = await http(base, 'GET', '/v1/queue?agent=Agent-1', { token });
    assert.equal(q.json.agents[0].in_flight, 4, 'the four unprocessed deliveries are still leased');

    const resumedAt = Date.now();
    const s2 = await SseClient.open(t, base, { token, query: `?last_event_id=${first.id as string}` });
    const back: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ev = await s2.next('delivery', 3000);
      back.push(ev.data.message.id);
      await ack(base, token, ev);
    }
    assert.ok(Date.now() - resumedAt < 5000, 'resumed without waiting for the leases to run out');
    assert.deepEqual(back, sent.slice(1), 'the lost deliveries, in order, and not the acked first one');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(s2.inbox.filter((e) => e.event === 'delivery'), []);
    assert.deepEqual((await http(base, 'GET', '/v1/inbox', { token })).json.items, []);
  });

  it('refuses a Last-Event-ID that is not an event id with a 400 problem', async (t) => {
    const { h, base } = await startStreamApp(t);
    const token = await h.addAgent('Agent-1');
    for (const headers of [{ 'last-event-id': 'abc' }, { 'last-event-id': '-1' }, { 'last-event-id': '1.5' }]) {
      const r = await h.call('GET', '/v1/stream', { token, headers });
      assertProblem(r, 400, 'validation_failed');
    }
    assertProblem(await h.call('GET', '/v1/stream?last_event_id=abc', { token }), 400, 'validation_failed');
    // Over the network too, not only through inject().
    const net = await http(base, 'GET', '/v1/stream', { token, headers: { 'last-event-id': 'abc' } });
    assert.equal(net.status, 400);
    assert.match(net.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(net.json.code, 'validation_failed');
  });
});
