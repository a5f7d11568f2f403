// Streams are authenticated like every other call: the WebSocket upgrade and the SSE request are
// refused with a problem document before anything is handed out; acting as another agent needs a
// role that may.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { http, openWs, queueOf, refusedUpgrade, send, SseClient, startStreamApp } from './clients.js';

describe('authentication on streams', () => {
  it('refuses a WebSocket upgrade without a valid token (401) or acting as another agent (403)', async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    await send(base, sender, { to: 'Agent-2', body: 'for Agent-2 only' });

    const refusals: [string, Parameters<typeof refusedUpgrade>[1], number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['unknown token', { token: 'swarm_nope_0000000000000000' }, 401, 'unauthorized'],
      ['malformed Authorization', { headers: { authorization: 'Basic QWdlbnQtMTpwdw==' } }, 401, 'unauthorized'],
      ['an agent acting as another', { token, as: 'Agent-2' }, 403, 'forbidden'],
    ];
    for (const [name, o, status, code] of refusals) {
      const r = await refusedUpgrade(base, o);
      assert.equal(r.status, status, name);
      assert.match(r.contentType, /^application\/problem\+json/, name);
      assert.equal(r.json?.code, code, name);
    }
    const q = await queueOf(base, h.adminToken, 'Agent-2');
    assert.equal(q.in_flight, 0, 'a refused stream was handed nothing');
    assert.equal(q.streams, 0);
  });

  it('refuses an SSE stream without a valid token (401) or acting as another agent (403)', async (t) => {
    const { h, base } = await startStreamApp(t);
    const token = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const refusals: [string, Parameters<typeof http>[3], number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['unknown token', { token: 'swarm_nope_0000000000000000' }, 401, 'unauthorized'],
      ['an agent acting as another', { token, as: 'Agent-2' }, 403, 'forbidden'],
    ];
    for (const [name, o, status, code] of refusals) {
      const r = await http(base, 'GET', '/v1/stream', o);
      assert.equal(r.status, status, name);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
      assert.equal(r.json.code, code, name);
      assert.equal(r.json.status, status, name);
    }
  });

  it('lets a captain stream as an agent, over WebSocket and SSE', async (t) => {
    const { h, base } = await startStreamApp(t);
    const sender = await h.addAgent('Agent-S');
    const captain = await h.addAgent('captain', 'captain');
    await h.addAgent('Agent-1');
    const id = await send(base, sender, { to: 'Agent-1', body: 'captain reads along' });

    const ws = await openWs(t, base, { token: captain, as: 'Agent-1', ready: false });
    const ready = await ws.nextOf('ready');
    assert.equal(ready.agent, 'Agent-1');
    const d = await ws.nextOf('delivery');
    assert.equal(d.message.id, id);
    assert.equal(d.delivery.recipient, 'Agent-1');
    assert.equal((await ws.request({ type: 'ack', id: 'a', ids: [id] })).type, 'acked');

    const sse = await SseClient.open(t, base, { token: captain, as: 'Agent-1' });
    assert.equal((await sse.next('ready')).data.agent, 'Agent-1');
    sse.abort();
  });
});
