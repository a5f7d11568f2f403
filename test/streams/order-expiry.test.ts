// Order on a stream: urgent first, then oldest, among what is waiting when the consumer connects;
// one sender's messages of one priority arrive in send order. A message past its expiry is never
// handed out and shows as expired.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { http, openWs, queueOf, send, startStreamApp, until } from './clients.js';

describe('order and expiry on streams', () => {
  it('hands out what was waiting urgent first, then high, regular, low, oldest first within a priority', async (t) => {
    const { h, base } = await startStreamApp(t);
    const a = await h.addAgent('Agent-A');
    const b = await h.addAgent('Agent-B');
    const token = await h.addAgent('Agent-1');
    const plan: [string, string, string][] = [
      ['r1', a, 'regular'],
      ['l1', b, 'low'],
      ['u1', a, 'urgent'],
      ['r2', b, 'regular'],
      ['h1', b, 'high'],
      ['u2', b, 'urgent'],
      ['l2', a, 'low'],
      ['h2', a, 'high'],
    ];
    const ids = new Map<string, string>();
    for (const [name, from, priority] of plan) ids.set(await send(base, from, { to: 'Agent-1', body: name, priority }), name);

    const c = await openWs(t, base, { token });
    const got: string[] = [];
    for (let i = 0; i < plan.length; i++) got.push(ids.get((await c.nextOf('delivery')).message.id) as string);
    assert.deepEqual(got, ['u1', 'u2', 'h1', 'h2', 'r1', 'r2', 'l1', 'l2']);
  });

  it('delivers 50 messages of one sender in send order', async (t) => {
    const { h, base } = await startStreamApp(t);
    const senderToken = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    const consumer = await openWs(t, base, { token, query: { prefetch: 7 } });
    const sender = await openWs(t, base, { token: senderToken });
    // Pipelined: 50 send frames without waiting; the hub handles a socket's frames in order.
    for (let i = 0; i < 50; i++) sender.send({ type: 'send', id: `s${i}`, message: { to: 'Agent-1', body: `n=${i}` } });
    const sentIds: string[] = [];
    for (let i = 0; i < 50; i++) {
      const f = await sender.next((x) => x.id === `s${i}`, 5000, `sent s${i}`);
      assert.equal(f.type, 'sent', JSON.stringify(f));
      sentIds.push(f.message.id);
    }
    assert.deepEqual([...sentIds].sort(), sentIds, 'ids are sortable in send order');
    const received: string[] = [];
    while (received.length < 50) {
      const d = await consumer.nextOf('delivery', 5000);
      assert.equal(d.message.body, `n=${received.length}`);
      received.push(d.message.id);
      consumer.send({ type: 'ack', ids: [d.message.id] });
    }
    assert.deepEqual(received, sentIds);
  });

  it('never hands out a message after its expiry and marks it expired', async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    // The consumer is busy with one delivery (prefetch 1) while a short-lived message waits behind it.
    const c = await openWs(t, base, { token, query: { prefetch: 1 } });
    const busy = await send(base, sender, { to: 'Agent-1', body: 'long job' });
    assert.equal((await c.nextOf('delivery')).message.id, busy);
    const expiresAt = Date.now() + 1000;
    const shortLived = await send(base, sender, { to: 'Agent-1', body: 'only for a second', expires_at: new Date(expiresAt).toISOString() });
    // Not consumed in time: by the time credit frees, it has expired.
    await until(
      'the expiry to be recorded',
      async () => {
        const r = await http(base, 'GET', '/v1/inbox?all=true', { token });
        return r.json.items.find((i: any) => i.message.id === shortLived)?.delivery.state === 'expired';
      },
      5000,
      100,
    );
    assert.ok(Date.now() >= expiresAt, 'not marked expired before its expiry');
    assert.equal((await c.request({ type: 'ack', id: 'a', ids: [busy] })).type, 'acked');
    const later = await send(base, sender, { to: 'Agent-1', body: 'after' });
    const next = await c.nextOf('delivery', 5000);
    assert.equal(next.message.id, later, 'the expired message is skipped');
    assert.ok(!c.all.some((f) => f.type === 'delivery' && f.message.id === shortLived), 'the expired message never reached the stream');
    const q = await queueOf(base, token, 'Agent-1');
    assert.equal(q.expired, 1);
    assert.equal(q.acked, 1);
    // Nor does a fresh stream get it: its first delivery is the next live message.
    assert.equal((await c.request({ type: 'ack', id: 'b', ids: [later] })).type, 'acked');
    c.close();
    const c2 = await openWs(t, base, { token });
    const final = await send(base, sender, { to: 'Agent-1', body: 'final' });
    assert.equal((await c2.nextOf('delivery', 5000)).message.id, final);
  });
});
