// Bad WebSocket frames: each gets an error frame with a stable code (echoing the request id when it
// had one), changes nothing in the store, and leaves the socket open. Only a frame over the size
// limit ends the connection (1009, message too big).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { http, openWs, refusedUpgrade, send, startStreamApp } from './clients.js';

describe('bad frames over WebSocket', () => {
  it('answers each bad frame with an error frame, keeps the socket open and changes nothing', async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const mine = await send(base, sender, { to: 'Agent-1', body: 'for Agent-1' });
    const theirs = await send(base, sender, { to: 'Agent-2', body: 'for Agent-2' });
    const c = await openWs(t, base, { token });
    assert.equal((await c.nextOf('delivery')).message.id, mine);
    assert.deepEqual(await c.request({ type: 'ack', id: 'ok', ids: [mine] }), { type: 'acked', id: 'ok', acked: [mine] });
    const before = await storeCounts(h);
    assert.equal(before.acked, 1);

    const cases: { name: string; frame: string | Buffer; code: string; id?: string }[] = [
      { name: 'malformed JSON', frame: '{"type": "ping", ', code: 'bad_frame' },
      { name: 'binary frame', frame: Buffer.from(JSON.stringify({ type: 'ping', id: 'bin' })), code: 'bad_frame' },
      { name: 'JSON array', frame: '[{"type":"ping"}]', code: 'bad_frame' },
      { name: 'JSON string', frame: '"ping"', code: 'bad_frame' },
      { name: 'JSON null', frame: 'null', code: 'bad_frame' },
      { name: 'JSON number', frame: '42', code: 'bad_frame' },
      { name: 'no type', frame: JSON.stringify({ id: 'nt', ids: [mine] }), code: 'bad_frame', id: 'nt' },
      { name: 'unknown type', frame: JSON.stringify({ type: 'subscribe', id: 'u1' }), code: 'bad_frame', id: 'u1' },
      { name: 'ack with non-ULID ids', frame: JSON.stringify({ type: 'ack', id: 'a1', ids: ['not-an-id'] }), code: 'bad_frame', id: 'a1' },
      { name: 'ack without ids', frame: JSON.stringify({ type: 'ack', id: 'a2' }), code: 'bad_frame', id: 'a2' },
      { name: 'ack with empty ids', frame: JSON.stringify({ type: 'ack', id: 'a3', ids: [] }), code: 'bad_frame', id: 'a3' },
      { name: 'ack with an unknown field', frame: JSON.stringify({ type: 'ack', id: 'a4', ids: [mine], force: true }), code: 'bad_frame', id: 'a4' },
      {
        name: 'send with an unknown message field',
        frame: JSON.stringify({ type: 'send', id: 's1', message: { to: 'Agent-2', body: 'hi', colour: 'red' } }),
        code: 'bad_frame',
        id: 's1',
      },
      { name: 'send without a message', frame: JSON.stringify({ type: 'send', id: 's2' }), code: 'bad_frame', id: 's2' },
      { name: 'send with an empty body', frame: JSON.stringify({ type: 'send', id: 's3', message: { to: 'Agent-2', body: '' } }), code: 'bad_frame', id: 's3' },
      { name: 'nack with a negative delay', frame: JSON.stringify({ type: 'nack', id: 'n1', ids: [mine], delay_seconds: -1 }), code: 'bad_frame', id: 'n1' },
      { name: 'nack with a string delay', frame: JSON.stringify({ type: 'nack', id: 'n2', ids: [mine], delay_seconds: '5' }), code: 'bad_frame', id: 'n2' },
      { name: 'frame id not a string', frame: JSON.stringify({ type: 'ping', id: 7 }), code: 'bad_frame' },
      { name: 'ack of another agent’s message', frame: JSON.stringify({ type: 'ack', id: 'o1', ids: [theirs] }), code: 'message_not_found', id: 'o1' },
      { name: 'ack twice', frame: JSON.stringify({ type: 'ack', id: 'd1', ids: [mine] }), code: 'already_acked', id: 'd1' },
      { name: 'nack of an acked delivery', frame: JSON.stringify({ type: 'nack', id: 'n3', ids: [mine] }), code: 'delivery_closed', id: 'n3' },
      { name: 'send to an unknown recipient', frame: JSON.stringify({ type: 'send', id: 'r1', message: { to: 'Agent-404', body: 'anyone?' } }), code: 'unknown_recipient', id: 'r1' },
    ];
    for (const k of cases) {
      c.ws.send(k.frame);
      const err = await c.next((f) => f.type !== 'delivery', 3000, `answer to ${k.name}`);
      assert.equal(err.type, 'error', `${k.name}: ${JSON.stringify(err)}`);
      assert.equal(err.code, k.code, `${k.name}: ${JSON.stringify(err)}`);
      assert.equal(typeof err.detail, 'string');
      assert.ok(err.detail.length > 0, `${k.name}: empty detail`);
      if (k.id === undefined) assert.equal(err.id, undefined, `${k.name}: no id to echo`);
      else assert.equal(err.id, k.id, `${k.name}: the request id is echoed`);
      await c.assertAlive(`after ${k.name}`);
    }
    assert.deepEqual(await storeCounts(h), before, 'no bad frame changed the store');
    assert.deepEqual(c.takeAll('delivery'), [], 'no bad frame made anything deliverable');
    // Agent-2's delivery is untouched by Agent-1's attempt to ack it.
    const other = await h.call('GET', '/v1/inbox', { as: 'Agent-2' });
    assert.deepEqual(
      other.json.items.map((i: any) => i.message.id),
      [theirs],
    );
    assert.equal(other.json.items[0].delivery.acked_at, null);
  });

  it('closes the socket with 1009 for a frame larger than limits.bodyBytes, and accepts one under it', async (t) => {
    const { h, base } = await startStreamApp(t, { 'limits.bodyBytes': 64 * 1024 });
    const token = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const c = await openWs(t, base, { token });
    const under = await c.request({ type: 'send', id: 'fits', message: { to: 'Agent-2', body: 'x'.repeat(60 * 1024) } });
    assert.equal(under.type, 'sent', JSON.stringify(under).slice(0, 300));
    const before = await storeCounts(h);
    c.send({ type: 'send', id: 'big', message: { to: 'Agent-2', body: 'x'.repeat(100 * 1024) } });
    const closed = await Promise.race([c.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5000))]);
    assert.equal(closed.code, 1009);
    assert.equal(c.all.filter((f) => f.id === 'big').length, 0, 'the oversized frame was not handled');
    assert.deepEqual(await storeCounts(h), before);
  });

  it('refuses a stream with a bad query (prefetch out of range or not a number, unknown parameters) with a 400 problem, over WebSocket and SSE', async (t) => {
    const { h, base } = await startStreamApp(t);
    const token = await h.addAgent('Agent-1');
    const sender = await h.addAgent('Agent-S');
    await send(base, sender, { to: 'Agent-1', body: 'waiting' });
    const before = await storeCounts(h);
    const queries: Record<string, string | number>[] = [{ prefetch: 0 }, { prefetch: 10_001 }, { prefetch: 'abc' }, { prefetch: 1.5 }, { presence: 'maybe' }, { colour: 'red' }];
    for (const query of queries) {
      const ws = await refusedUpgrade(base, { token, query });
      assert.equal(ws.status, 400, `ws ${JSON.stringify(query)}`);
      assert.match(ws.contentType, /^application\/problem\+json/);
      assert.equal(ws.json.code, 'validation_failed', JSON.stringify(ws.json));
      const sse = await http(base, 'GET', `/v1/stream?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`, { token });
      assert.equal(sse.status, 400, `sse ${JSON.stringify(query)}`);
      assert.equal(sse.json.code, 'validation_failed');
    }
    assert.deepEqual(await storeCounts(h), before, 'nothing handed out or changed');
    const queue = await http(base, 'GET', '/v1/queue?agent=Agent-1', { token: h.adminToken });
    assert.equal(queue.json.agents.find((a: { agent: string }) => a.agent === 'Agent-1')?.in_flight, 0, 'no lease was taken');
  });
});
