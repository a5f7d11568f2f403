// SIGTERM behind a load balancer: with shutdown.drainSeconds the process first turns unready
// (/readyz 503 shutting_down, Retry-After) while it still answers every request on its open
// connections, so the balancer takes it out of rotation before its connections close; then it
// shuts down as usual and exits 0.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { addAgent, http, sleep } from '../streams/clients.js';

describe('shutdown drain', () => {
  it('answers /readyz 503 and still serves sends for shutdown.drainSeconds after SIGTERM, then exits 0', { timeout: 30_000 }, async (t) => {
    const hub = await spawnHub(tempDir(), { env: { SWARM_DRAIN_SECONDS: '2' } });
    t.after(() => hub.kill());
    const token = await addAgent(hub.url, hub.adminToken, 'Agent-1');
    assert.equal((await http(hub.url, 'GET', '/readyz')).status, 200);

    const signalled = Date.now();
    const exited = hub.stop();
    await sleep(300);
    const unready = await http(hub.url, 'GET', '/readyz');
    assert.equal(unready.status, 503);
    assert.equal(unready.json.code, 'shutting_down');
    assert.equal(unready.headers.get('retry-after'), '1');
    const sent = await http(hub.url, 'POST', '/v1/messages', { token, body: { to: 'Agent-1', body: 'still served while draining' } });
    assert.equal(sent.status, 201, sent.body);

    assert.equal(await exited, 0, hub.output());
    const took = Date.now() - signalled;
    assert.ok(took >= 2000 && took < 6000, `SIGTERM to exit: ${took} ms`);
  });
});
