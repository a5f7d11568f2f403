// Tokens: created with expiry and scopes, listed without secrets, never echoed after creation or
// logged; revoked, rotated or expired, a token stops at once, also on an open WebSocket (4001) or
// SSE stream (`event: close` unauthorized); failed authentication is throttled per address.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { ensureAdminToken, Hub } from '../../src/hub/hub.js';
import { buildApp } from '../../src/server/app.js';
import { http, openWs, sleep, SseClient, startStreamApp, until } from '../streams/clients.js';
import { startTestApp } from '../support/app.js';
import { openTestStore, storeKind, testStore } from '../support/store.js';
import { okJson, okText, refused, swarm } from '../e2e/helpers.js';

const BAD = 'swarm_' + 'A'.repeat(43);

describe('tokens', () => {
  it('creates tokens with expiry and scopes, lists them without secrets, and never echoes a token after creation', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('Agent-1');
    const created = await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', expires_in_seconds: 3600, scopes: ['message.send', 'inbox.own'], label: 'ci' } });
    assert.equal(created.status, 201, created.body);
    const secret = created.json.token as string;
    assert.match(secret, /^swarm_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.headers['cache-control'], 'no-store');
    assert.equal(created.json.info.agent, 'Agent-1');
    assert.deepEqual(created.json.info.scopes, ['message.send', 'inbox.own']);
    assert.ok(Math.abs(Date.parse(created.json.info.expires_at) - Date.now() - 3600_000) < 10_000);

    const list = await h.call('GET', '/v1/tokens?agent=Agent-1');
    assert.equal(list.status, 200);
    assert.equal(list.json.tokens.length, 2, 'the registration token and the new one');
    assert.ok(!list.body.includes(secret), 'a list never carries a secret');
    assert.ok(!/hash/i.test(list.body), 'nor a hash');
    const info = list.json.tokens.find((x: any) => x.id === created.json.info.id);
    assert.equal(info.label, 'ci');

    // The scoped token: it sends and reads its inbox, nothing else (whoami is always allowed).
    assert.equal((await h.call('GET', '/v1/whoami', { token: secret })).json.self.id, 'Agent-1');
    assert.equal((await h.call('POST', '/v1/messages', { token: secret, body: { to: 'admin', body: 'scoped hello' } })).status, 201);
    assert.equal((await h.call('GET', '/v1/inbox', { token: secret })).status, 200);
    const refused = await h.call('GET', '/v1/agents', { token: secret });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, 'forbidden');
    assert.match(refused.json.detail, /limited to message\.send, inbox\.own/);
    // No response other than create carries the secret.
    for (const path of ['/v1/tokens', '/v1/agents', '/v1/whoami', '/v1/history']) assert.ok(!(await h.call('GET', path)).body.includes(secret), path);

    // Refusals: unknown agent, unknown scope, a scope the role does not have, non-admins.
    assert.equal((await h.call('POST', '/v1/tokens', { body: { agent: 'Nobody' } })).json.code, 'agent_not_found');
    assert.equal((await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', scopes: ['message.fly'] } })).json.code, 'validation_failed');
    assert.equal((await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', scopes: ['config.manage'] } })).json.code, 'validation_failed');
    // A NUL in a label: PostgreSQL cannot store it, and says so as the caller's mistake (400), not a
    // 500; SQLite stores it. Either way no answer is a 5xx, and a refused token is not stored.
    const tokensBefore = (await h.call('GET', '/v1/tokens')).json.tokens.length as number;
    const nul = await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', label: 'a\u0000b' } });
    if (storeKind() === 'postgres') {
      assert.equal(nul.status, 400, nul.body);
      assert.equal(nul.json.code, 'validation_failed');
      assert.equal((await h.call('GET', '/v1/tokens')).json.tokens.length, tokensBefore);
    } else assert.equal(nul.status, 201, nul.body);
    const captain = await h.addAgent('cap', 'captain');
    for (const [m, p] of [['POST', '/v1/tokens'], ['GET', '/v1/tokens'], ['DELETE', `/v1/tokens/${info.id as string}`], ['POST', `/v1/tokens/${info.id as string}/rotate`]] as const) {
      const r = await h.call(m, p, { token: captain, body: m === 'POST' ? (p === '/v1/tokens' ? { agent: 'Agent-1' } : {}) : undefined });
      assert.equal(r.status, 403, `${m} ${p}`);
      assert.equal(r.json.code, 'forbidden');
    }
  });

  it('never writes a token to the logs, even with request logging on', async (t) => {
    let stop = async (): Promise<void> => {};
    t.after(() => stop()); // added before testStore's, so it runs before the schema is dropped
    const where = testStore(t);
    const { dir } = where;
    let logs = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    const { config } = loadConfig({ env: {}, cwd: dir, flags: { 'data.dir': dir, 'store.synchronous': 'normal', 'log.requests': true } });
    const store = await openTestStore(where);
    stop = () => store.close();
    const hub = new Hub({ store, config });
    await ensureAdminToken(hub, dir);
    const admin = (await import('node:fs')).readFileSync(`${dir}/admin.token`, 'utf8').trim();
    const logger = pino({ level: 'trace', redact: { paths: ['req.headers.authorization', 'token'], censor: '[redacted]' } }, sink);
    const app = await buildApp({ hub, logger });
    stop = async () => {
      await app.close();
      await hub.stop();
      await store.close();
    };
    const call = (method: string, url: string, token: string, body?: unknown) =>
      app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body) });
    const reg = await call('POST', '/v1/agents', admin, { id: 'Agent-1' });
    const created = JSON.parse((await call('POST', '/v1/tokens', admin, { agent: 'Agent-1' })).body);
    await call('GET', '/v1/whoami', created.token);
    await call('GET', '/v1/inbox', JSON.parse(reg.body).token);
    await call('POST', `/v1/tokens/${created.info.id as string}/rotate`, admin, {});
    await call('GET', '/v1/whoami', created.token); // revoked now: 401
    assert.ok(logs.length > 0, 'something was logged');
    for (const secret of [admin, created.token, JSON.parse(reg.body).token]) assert.ok(!logs.includes(secret), 'no token in the logs');
  });

  it('revoking a token: the next call gets 401, and streams opened with it end within a second', async (t) => {
    const { h, base } = await startStreamApp(t);
    await h.addAgent('Agent-1');
    const created = await http(base, 'POST', '/v1/tokens', { token: h.adminToken, body: { agent: 'Agent-1' } });
    const token = created.json.token as string;
    const id = created.json.info.id as string;
    const other = await http(base, 'POST', '/v1/tokens', { token: h.adminToken, body: { agent: 'Agent-1' } });

    const ws = await openWs(t, base, { token });
    const sse = await SseClient.open(t, base, { token });
    await sse.next('ready');
    const bystander = await openWs(t, base, { token: other.json.token as string });

    const t0 = Date.now();
    const r = await http(base, 'DELETE', `/v1/tokens/${id}`, { token: h.adminToken });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.revoked.id, id);
    assert.ok(!r.body.includes(token));
    const closed = await ws.closed;
    assert.equal(closed.code, 4001);
    assert.equal(closed.reason, 'unauthorized');
    const close = await sse.next('close', 1000);
    assert.equal(close.data.code, 'unauthorized');
    assert.ok(Date.now() - t0 < 1000, `ended within a second (${Date.now() - t0} ms)`);

    const after = await http(base, 'GET', '/v1/whoami', { token });
    assert.equal(after.status, 401);
    assert.equal(after.json.code, 'unauthorized');
    await bystander.assertAlive(); // another token of the same agent is untouched
    assert.equal((await http(base, 'DELETE', `/v1/tokens/${id}`, { token: h.adminToken })).json.code, 'token_not_found');
    assert.ok(!(await http(base, 'GET', '/v1/tokens', { token: h.adminToken })).json.tokens.some((x: any) => x.id === id), 'gone from the list');
  });

  it('removing an agent ends its streams at once', async (t) => {
    const { h, base } = await startStreamApp(t);
    const token = await h.addAgent('Agent-1');
    const ws = await openWs(t, base, { token });
    const sse = await SseClient.open(t, base, { token });
    await sse.next('ready');
    assert.equal((await http(base, 'DELETE', '/v1/agents/Agent-1', { token: h.adminToken })).status, 204);
    assert.equal((await ws.closed).code, 4001);
    assert.equal((await sse.next('close', 1000)).data.code, 'unauthorized');
  });

  it('an expiring token stops at once, also on an open WebSocket and SSE stream', async (t) => {
    const { h, base } = await startStreamApp(t);
    await h.addAgent('Agent-1');
    const created = await http(base, 'POST', '/v1/tokens', { token: h.adminToken, body: { agent: 'Agent-1', expires_in_seconds: 1 } });
    const token = created.json.token as string;
    const ws = await openWs(t, base, { token });
    const sse = await SseClient.open(t, base, { token });
    await sse.next('ready');
    assert.equal((await http(base, 'GET', '/v1/whoami', { token })).status, 200);
    const expires = Date.parse(created.json.info.expires_at as string);
    const closed = await ws.closed;
    assert.equal(closed.code, 4001);
    assert.ok(Date.now() >= expires - 5 && Date.now() - expires < 1000, `closed at expiry (${Date.now() - expires} ms after)`);
    const close = await sse.next('close', 1000);
    assert.equal(close.data.code, 'unauthorized');
    assert.match(close.data.detail, /expired/);
    const r = await http(base, 'GET', '/v1/whoami', { token });
    assert.equal(r.status, 401);
    assert.equal(r.json.detail, 'token expired');
    const listed = await http(base, 'GET', '/v1/tokens?agent=Agent-1', { token: h.adminToken });
    assert.equal(listed.json.tokens.find((x: any) => x.id === created.json.info.id).expired, true);
  });

  it('rotating a token: a new one for the same agent and scopes, the old one revoked at once', async (t) => {
    const { h, base } = await startStreamApp(t);
    await h.addAgent('Agent-1');
    const created = await http(base, 'POST', '/v1/tokens', { token: h.adminToken, body: { agent: 'Agent-1', scopes: ['inbox.own', 'message.send'], expires_in_seconds: 600 } });
    const old = created.json.token as string;
    const ws = await openWs(t, base, { token: old });
    const r = await http(base, 'POST', `/v1/tokens/${created.json.info.id as string}/rotate`, { token: h.adminToken });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.revoked, created.json.info.id);
    assert.notEqual(r.json.token, old);
    assert.deepEqual(r.json.info.scopes, ['inbox.own', 'message.send']);
    assert.equal(r.json.info.agent, 'Agent-1');
    assert.ok(Math.abs(Date.parse(r.json.info.expires_at) - Date.now() - 600_000) < 10_000, 'as long-lived as the old one');
    assert.equal((await ws.closed).code, 4001);
    assert.equal((await http(base, 'GET', '/v1/whoami', { token: old })).status, 401);
    assert.equal((await http(base, 'GET', '/v1/whoami', { token: r.json.token as string })).json.self.id, 'Agent-1');
  });

  it('throttles failed authentication per address: after the limit, even a good token gets 429 until the lock-out ends', async (t) => {
    const { h, base } = await startStreamApp(t, { 'auth.failureLimit': 10, 'auth.failureWindowSeconds': 60, 'auth.lockoutSeconds': 1 });
    for (let i = 0; i < 10; i++) {
      const r = await http(base, 'GET', '/v1/whoami', { token: i % 2 === 0 ? BAD : 'not-a-token' });
      assert.equal(r.status, 401, `attempt ${i + 1}`);
    }
    const eleventh = await http(base, 'GET', '/v1/whoami', { token: BAD });
    assert.equal(eleventh.status, 429);
    assert.equal(eleventh.json.code, 'rate_limited');
    assert.match(eleventh.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const good = await http(base, 'GET', '/v1/whoami', { token: h.adminToken });
    assert.equal(good.status, 429, 'even a valid token, from this address');
    assert.equal(good.headers.get('retry-after'), '1');
    const ws = await http(base, 'GET', '/v1/stream', { token: h.adminToken });
    assert.equal(ws.status, 429, 'streams too');
    await sleep(1100);
    await until('the lock-out ends', async () => (await http(base, 'GET', '/v1/whoami', { token: h.adminToken })).status === 200, 3000);
    // A missing token is not a guess: it does not count.
    for (let i = 0; i < 12; i++) assert.equal((await http(base, 'GET', '/v1/whoami', {})).status, 401);
    assert.equal((await http(base, 'GET', '/v1/whoami', { token: h.adminToken })).status, 200);
  });

  it('the CLI: token create, list, rotate and revoke (admins only)', async (t) => {
    const { h, base } = await startStreamApp(t);
    const agentToken = await h.addAgent('Agent-1');
    const created = okJson(await swarm(base, ['--json', 'token', 'create', 'Agent-1', '--expires', '30d', '--scope', 'message.send', '--scope', 'inbox.own'], { token: h.adminToken }));
    assert.deepEqual(created.info.scopes, ['message.send', 'inbox.own']);
    assert.ok(Math.abs(Date.parse(created.info.expires_at) - Date.now() - 30 * 86400_000) < 10_000);
    const list = okText(await swarm(base, ['token', 'list', '--agent', 'Agent-1'], { token: h.adminToken }));
    assert.match(list, new RegExp(created.info.id as string));
    assert.ok(!list.includes(created.token as string));
    const rotated = okText(await swarm(base, ['-q', 'token', 'rotate', created.info.id as string], { token: h.adminToken })).trim();
    assert.match(rotated, /^swarm_/);
    assert.equal((await http(base, 'GET', '/v1/whoami', { token: created.token as string })).status, 401);
    const newId = (await http(base, 'GET', '/v1/tokens?agent=Agent-1', { token: h.adminToken })).json.tokens.find((x: any) => x.scopes !== null).id as string;
    okText(await swarm(base, ['token', 'revoke', newId], { token: h.adminToken }));
    assert.equal((await http(base, 'GET', '/v1/whoami', { token: rotated })).status, 401);
    refused(await swarm(base, ['token', 'list'], { token: agentToken }), 6, 'forbidden');
    refused(await swarm(base, ['token', 'revoke', newId], { token: h.adminToken }), 4, 'token_not_found');
    refused(await swarm(base, ['inbox'], { token: rotated }), 5, 'unauthorized');
  });
});
