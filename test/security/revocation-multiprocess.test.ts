// Revocation across hub processes: two `swarm serve --role api` on one PostgreSQL. A token revoked
// (or an agent removed) through one process ends the streams opened with it on the other at
// once, through the store's events.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { http, openWs, SseClient } from '../streams/clients.js';

describe('revocation across hub processes', () => {
  it('a token revoked on one api process closes its WebSocket and SSE streams on another within a second', { timeout: 60_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_rev');
    const dir = tempDir();
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '3' };
    const a = await spawnHub(join(dir, 'a'), { env, args: ['--role', 'api', '--port', '0'] });
    t.after(() => a.kill());
    const b = await spawnHub(join(dir, 'b'), { env, args: ['--role', 'api', '--port', '0'] });
    t.after(() => b.kill());
    const admin = a.adminToken;
    assert.equal((await http(a.url, 'POST', '/v1/agents', { token: admin, body: { id: 'Agent-1' } })).status, 201);
    const created = await http(a.url, 'POST', '/v1/tokens', { token: admin, body: { agent: 'Agent-1' } });
    const token = created.json.token as string;

    const ws = await openWs(t, b.url, { token });
    const sse = await SseClient.open(t, b.url, { token });
    await sse.next('ready');
    const t0 = Date.now();
    assert.equal((await http(a.url, 'DELETE', `/v1/tokens/${created.json.info.id as string}`, { token: admin })).status, 200);
    assert.equal((await ws.closed).code, 4001);
    assert.equal((await sse.next('close', 2000)).data.code, 'unauthorized');
    assert.ok(Date.now() - t0 < 1000, `ended within a second on the other process (${Date.now() - t0} ms)`);
    assert.equal((await http(b.url, 'GET', '/v1/whoami', { token })).status, 401);

    // Removing the agent through one process ends its streams on the other.
    const second = (await http(a.url, 'POST', '/v1/tokens', { token: admin, body: { agent: 'Agent-1' } })).json.token as string;
    const ws2 = await openWs(t, b.url, { token: second });
    assert.equal((await http(a.url, 'DELETE', '/v1/agents/Agent-1', { token: admin })).status, 204);
    assert.equal((await ws2.closed).code, 4001);
  });
});
