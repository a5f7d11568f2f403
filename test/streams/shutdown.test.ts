// SIGTERM with open streams: WebSocket clients get 1001 (going away), SSE clients `event: close`
// with code shutting_down, and the hub exits 0 within a few seconds instead of waiting on them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { testStore } from '../support/store.js';
import { addAgent, openWs, sleep, SseClient } from './clients.js';

describe('shutdown with open streams', () => {
  it('closes WebSocket clients with 1001, sends SSE clients event close, and exits 0', async (t) => {
    const store = testStore(t);
    const hub = await spawnHub(store.dir, { store });
    t.after(() => hub.kill());
    const a1 = await addAgent(hub.url, hub.adminToken, 'Agent-1');
    const a2 = await addAgent(hub.url, hub.adminToken, 'Agent-2');
    const ws1 = await openWs(t, hub.url, { token: a1 });
    const ws2 = await openWs(t, hub.url, { token: a2, query: { presence: true } });
    const sse = await SseClient.open(t, hub.url, { token: a2 });
    await sse.next('ready');

    const started = Date.now();
    const code = await Promise.race([hub.stop(), sleep(10_000).then(() => 'timeout' as const)]);
    const took = Date.now() - started;
    assert.equal(code, 0, `exit code ${code}:\n${hub.output()}`);
    t.diagnostic(`SIGTERM to exit: ${took} ms`);
    assert.ok(took < 3000, `the hub took ${took} ms to exit`);

    for (const [name, ws] of [['ws1', ws1], ['ws2', ws2]] as const) {
      const closed = await Promise.race([ws.closed, sleep(2000).then(() => null)]);
      assert.ok(closed !== null, `${name} was not closed`);
      assert.equal(closed.code, 1001, name);
      assert.equal(closed.reason, 'shutting_down', name);
    }
    const close = await sse.next('close', 2000);
    assert.equal(close.data.code, 'shutting_down');
    await Promise.race([sse.ended, sleep(2000)]);
  });
});
