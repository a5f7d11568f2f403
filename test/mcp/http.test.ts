// POST /mcp on a real hub: the SDK's Streamable HTTP client, bearer tokens, Origin and Host checks,
// statelessness (a tools/call with no initialize before it, no session id), and refusals.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { http, registerAgents } from '../e2e/helpers.js';
import { spawnHub } from '../support/process.js';
import { storeKind, testStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';
import { httpSession, ok, records, toolError } from './clients.js';

/** One raw POST /mcp with the headers given (Host included), bounded in time. */
function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const u = new URL(`${url}/mcp`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.end(JSON.stringify(body));
  });
}

const whoamiCall = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };

describe(`${storeKind() === 'postgres' ? '[postgres] ' : ''}POST /mcp on the hub`, () => {
  it('serves the MCP tools to a bearer token, statelessly, and refuses what it must', async (t) => {
    const dir = tempDir();
    const hub = await spawnHub(join(dir, '.swarm'), { cwd: dir, store: testStore(t, join(dir, '.swarm')) });
    t.after(() => hub.stop());
    const url = hub.url;
    const tokens = await registerAgents(url, hub.adminToken, ['Agent-1', 'Agent-2']);
    const bearer = (id: string) => ({ authorization: `Bearer ${tokens[id] ?? ''}` });

    await t.test('the SDK client lists the 14 default tools in at most 12 KB, and calls them', async () => {
      const s = await httpSession(url, tokens['Agent-1'] ?? '');
      try {
        const list = await s.client.listTools();
        const bytes = Buffer.byteLength(JSON.stringify(list));
        t.diagnostic(`tools/list over HTTP: ${bytes} bytes`);
        assert.equal(list.tools.length, 14);
        assert.ok(bytes <= 12 * 1024);
        assert.deepEqual((await s.client.listResources()).resources.map((r) => r.uri).sort(), ['swarm://inbox', 'swarm://tasks']);
        assert.notEqual(s.client.getServerCapabilities()?.resources?.subscribe, true, 'no subscriptions without a session');
        const sent = await ok(s.client, 'send', { to: 'Agent-2', body: 'over http' });
        const inbox = records(await ok((await httpSession(url, tokens['Agent-2'] ?? '')).client, 'inbox', {}));
        assert.ok(inbox.some((i) => i.id === sent.id && i.from === 'Agent-1'));
        assert.match(await toolError(s.client, 'send', { to: 'Agent-2', body: '' }), /\bbody\b/);
      } finally {
        await s.close();
      }
    });

    await t.test('stateless: a tools/call with no initialize before it is served, and no session id is issued', async () => {
      const r = await post(url, bearer('Agent-1'), whoamiCall);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['mcp-session-id'], undefined);
      const answer = JSON.parse(r.text);
      assert.equal(JSON.parse(answer.result.content[0].text).id, 'Agent-1');
    });

    await t.test('no token or a bad one: 401 with WWW-Authenticate', async () => {
      const tries: Record<string, string>[] = [{}, { authorization: 'Bearer swarm_nope' }, { authorization: 'Basic abc' }];
      for (const headers of tries) {
        const r = await post(url, headers, whoamiCall);
        assert.equal(r.status, 401, r.text);
        assert.equal(r.headers['www-authenticate'], 'Bearer');
        assert.equal(JSON.parse(r.text).code, 'unauthorized');
      }
    });

    await t.test('cross-origin browsers and foreign Host names are refused; no Origin or the hub’s own is served', async () => {
      const host = new URL(url).host;
      const evil = await post(url, { ...bearer('Agent-1'), origin: 'https://evil.example' }, whoamiCall);
      assert.equal(evil.status, 403, evil.text);
      assert.equal(JSON.parse(evil.text).code, 'forbidden');
      assert.equal((await post(url, { ...bearer('Agent-1'), origin: 'null' }, whoamiCall)).status, 403);
      assert.equal((await post(url, { ...bearer('Agent-1'), origin: `http://${host}` }, whoamiCall)).status, 200);
      const rebound = await post(url, { ...bearer('Agent-1'), host: 'attacker.example' }, whoamiCall);
      assert.equal(rebound.status, 403, rebound.text);
    });

    await t.test('acting as another agent with an agent’s token is forbidden', async () => {
      const r = await post(url, { ...bearer('Agent-1'), 'x-swarm-as': 'Agent-2' }, whoamiCall);
      assert.equal(r.status, 403, r.text);
      assert.equal(JSON.parse(r.text).code, 'forbidden');
    });

    await t.test('GET and DELETE are 405: there is no session stream', async () => {
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(`${url}/mcp`, { method, headers: bearer('Agent-1'), signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, 405);
      }
    });

    await t.test('a revoked token ends the session: the next call is refused with 401', async () => {
      const s = await httpSession(url, tokens['Agent-2'] ?? '');
      try {
        await ok(s.client, 'whoami');
        const list = await http(url, 'GET', '/v1/tokens?agent=Agent-2', { token: hub.adminToken });
        for (const tok of list.json.tokens) assert.equal((await http(url, 'DELETE', `/v1/tokens/${tok.id}`, { token: hub.adminToken })).status, 200);
        await assert.rejects(s.client.callTool({ name: 'inbox', arguments: {} }), /401|unauthorized/i);
      } finally {
        await s.close();
      }
    });
  });
});
