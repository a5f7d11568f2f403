// The roster over HTTP (register, remove, status, whoami, onboarding, wrap-up) and the operations
// endpoints (/healthz, /readyz, /openapi.json).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { startTestApp } from '../support/app.js';
import { assertProblem } from './expect.js';

describe('roster', () => {
  it('registers an agent (201) with a token that works, and lists it', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('POST', '/v1/agents', { body: { id: 'Agent-1', role: 'agent', specialty: 'Infrastructure & DevOps', capabilities: ['k8s', 'terraform'] } });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.token, /^swarm_[A-Za-z0-9_-]{43}$/);
    assert.equal(r.headers['cache-control'], 'no-store', 'an answer carrying a token is not cached');
    const a = r.json.agent;
    assert.equal(a.id, 'Agent-1');
    assert.equal(a.role, 'agent');
    assert.equal(a.specialty, 'Infrastructure & DevOps');
    assert.deepEqual(a.capabilities, ['k8s', 'terraform']);
    assert.equal(a.presence, 'offline', 'never seen yet');
    assert.equal(a.last_seen_at, null);

    const who = await h.call('GET', '/v1/whoami', { token: r.json.token });
    assert.equal(who.status, 200);
    assert.equal(who.json.principal.id, 'Agent-1');

    const list = await h.call('GET', '/v1/agents', { token: r.json.token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.agents.map((x: any) => x.id),
      ['Agent-1', 'admin'],
    );
    const one = await h.call('GET', '/v1/agents/Agent-1', { token: r.json.token });
    assert.equal(one.status, 200);
    assert.equal(one.json.agent.presence, 'online', 'seen by its own calls');
  });

  it('registers with role agent by default', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('POST', '/v1/agents', { body: { id: 'human:ana' } });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.agent.role, 'agent');
  });

  it('removes an agent (204): gone from the roster, its messages stay in history', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const m = await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'before I go' } });
    assert.equal(m.status, 201);
    const before = await storeCounts(h);
    const del = await h.call('DELETE', '/v1/agents/Agent-1');
    assert.equal(del.status, 204);
    assert.equal(del.body, '');
    const after = await storeCounts(h);
    assert.equal(after.agents, before.agents - 1);
    assert.equal(after.tokens, before.tokens - 1, 'its token is revoked');
    assert.equal(after.messages, before.messages);
    assertProblem(await h.call('GET', '/v1/agents/Agent-1'), 404, 'agent_not_found');
    const list = await h.call('GET', '/v1/agents');
    assert.ok(!list.json.agents.some((x: any) => x.id === 'Agent-1'));
    const hist = await h.call('GET', '/v1/history?agent=Agent-1');
    assert.deepEqual(
      hist.json.messages.map((x: any) => x.id),
      [m.json.message.id],
    );
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'x' } }), 401, 'unauthorized');
    assertProblem(await h.call('POST', '/v1/messages', { body: { to: 'Agent-1', body: 'x' } }), 422, 'unknown_recipient');
  });
});

describe('status and presence', () => {
  it('PUT /v1/status sets status and mission, shown by the roster and whoami', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const r = await h.call('PUT', '/v1/status', { token: a1, body: { status: 'busy', mission: 'Fixing CI' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.agent.id, 'Agent-1');
    assert.equal(r.json.agent.status, 'busy');
    assert.equal(r.json.agent.presence, 'busy');
    assert.equal(r.json.agent.mission, 'Fixing CI');
    assert.ok(r.json.agent.last_seen_at !== null);

    const seen = await h.call('GET', '/v1/agents/Agent-1');
    assert.equal(seen.json.agent.status, 'busy');
    assert.equal(seen.json.agent.presence, 'busy');
    assert.equal(seen.json.agent.mission, 'Fixing CI');

    const keep = await h.call('PUT', '/v1/status', { token: a1, body: { status: 'online' } });
    assert.equal(keep.json.agent.mission, 'Fixing CI', 'no mission keeps the current one');
    const off = await h.call('PUT', '/v1/status', { token: a1, body: { status: 'offline', mission: '' } });
    assert.equal(off.json.agent.presence, 'offline');
    assert.equal(off.json.agent.mission, '');
  });

  it('a captain acting as an agent sets that agent’s status', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    await h.addAgent('Agent-1');
    const r = await h.call('PUT', '/v1/status', { token: cap, as: 'Agent-1', body: { status: 'idle', mission: 'parked' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.agent.id, 'Agent-1');
    const agentNow = await h.call('GET', '/v1/agents/Agent-1');
    assert.equal(agentNow.json.agent.status, 'idle');
    assert.equal(agentNow.json.agent.mission, 'parked');
    const capNow = await h.call('GET', '/v1/agents/captain');
    assert.equal(capNow.json.agent.status, 'online');
    assert.equal(capNow.json.agent.mission, '');
  });

  it('heartbeat and any call mark the caller as seen', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    assert.equal((await h.call('GET', '/v1/agents/Agent-1')).json.agent.presence, 'offline');
    const hb = await h.call('POST', '/v1/heartbeat', { token: a1 });
    assert.equal(hb.status, 200, hb.body);
    assert.equal(hb.json.agent.id, 'Agent-1');
    assert.equal(hb.json.agent.presence, 'online');
    assert.ok(hb.json.agent.last_seen_at !== null);
  });

  it('whoami names the principal and whom it acts as', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('GET', '/v1/whoami');
    assert.equal(r.status, 200);
    assert.equal(r.json.principal.id, 'admin');
    assert.equal(r.json.principal.role, 'admin');
    assert.deepEqual(r.json.self, r.json.principal);
  });
});

describe('onboarding', () => {
  it('POST /v1/onboard registers (201), issues a working token and sends the filled-in template', async (t) => {
    const h = await startTestApp(t);
    const before = await storeCounts(h);
    const r = await h.call('POST', '/v1/onboard', { body: { id: 'Agent-7', role: 'agent', specialty: 'Reviews' } });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.headers['cache-control'], 'no-store', 'an answer carrying a token is not cached');
    assert.equal(r.json.agent.id, 'Agent-7');
    assert.equal(r.json.agent.specialty, 'Reviews');
    assert.match(r.json.message_id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    const after = await storeCounts(h);
    assert.deepEqual(after, { ...before, agents: before.agents + 1, tokens: before.tokens + 1, messages: 1, deliveries: 1 });

    const inbox = await h.call('GET', '/v1/inbox', { token: r.json.token });
    assert.equal(inbox.status, 200, inbox.body);
    assert.equal(inbox.json.items.length, 1);
    const m = inbox.json.items[0].message;
    assert.equal(m.id, r.json.message_id);
    assert.equal(m.type, 'onboarding');
    assert.equal(m.from, 'admin');
    assert.match(m.body, /Agent-7/);
    assert.match(m.body, /Your role is agent\./);
    assert.doesNotMatch(m.body, /\{(agent_id|role|specialty)\}/);
  });

  it('fills {agent_id}, {role} and {specialty} of a configured template', async (t) => {
    const h = await startTestApp(t, { 'templates.onboarding': 'Hi {agent_id}: {role} for {specialty}. ({agent_id})' });
    const cap = await h.addAgent('captain', 'captain');
    const r = await h.call('POST', '/v1/onboard', { token: cap, body: { id: 'Agent-8', specialty: 'Infra' } });
    assert.equal(r.status, 201, r.body);
    const m = await h.call('GET', `/v1/messages/${r.json.message_id}`, { token: r.json.token });
    assert.equal(m.status, 200, m.body);
    assert.equal(m.json.message.body, 'Hi Agent-8: agent for Infra. (Agent-8)');
    assert.equal(m.json.message.kind, 'C2A');
    assert.deepEqual(m.json.recipients, ['Agent-8']);
  });
});

describe('wrap-up', () => {
  it('to all: one high-priority status message per agent and captain, not admins or the sender', async (t) => {
    const h = await startTestApp(t, { 'templates.wrapup': 'Bye {agent_id}' });
    await h.addAgent('captain', 'captain');
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    await h.addAgent('root', 'admin');
    const r = await h.call('POST', '/v1/wrapup', { body: { to: 'all' } });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual([...r.json.recipients].sort(), ['Agent-1', 'Agent-2', 'captain']);
    assert.equal(r.json.message_ids.length, 3);
    assert.equal((await storeCounts(h)).messages, 3);
    const inbox = await h.call('GET', '/v1/inbox', { token: a1 });
    assert.equal(inbox.json.items.length, 1);
    const m = inbox.json.items[0].message;
    assert.equal(m.type, 'status');
    assert.equal(m.priority, 'high');
    assert.equal(m.subject, 'Wrap-up');
    assert.equal(m.body, 'Bye Agent-1');
  });

  it('to one agent: one message', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const r = await h.call('POST', '/v1/wrapup', { token: cap, body: { to: 'Agent-2' } });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.recipients, ['Agent-2']);
    assert.equal(r.json.message_ids.length, 1);
    assert.equal((await storeCounts(h)).deliveries, 1);
  });
});

describe('operations endpoints', () => {
  it('/healthz answers ok', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('GET', '/healthz', { token: '' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
  });

  it('/readyz answers ready with the store kind and schema version', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('GET', '/readyz', { token: '' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'ready');
    assert.equal(r.json.store, h.kind);
    assert.equal(typeof r.json.schema, 'number');
  });

  it('/openapi.json is an OpenAPI 3.1.0 document listing the /v1 paths', async (t) => {
    const h = await startTestApp(t);
    const r = await h.call('GET', '/openapi.json', { token: '' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.json.openapi, '3.1.0');
    const paths = Object.keys(r.json.paths);
    for (const p of [
      '/v1/messages',
      '/v1/messages/{id}',
      '/v1/messages/{id}/read',
      '/v1/ack',
      '/v1/inbox',
      '/v1/threads/{id}',
      '/v1/history',
      '/v1/agents',
      '/v1/agents/{id}',
      '/v1/status',
      '/v1/heartbeat',
      '/v1/whoami',
      '/v1/onboard',
      '/v1/wrapup',
    ]) {
      assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
    }
    assert.ok(!paths.includes('/healthz'), 'operations endpoints are hidden');
    assert.ok(r.json.paths['/v1/messages'].post.requestBody, 'the send body is described');
    assert.ok(r.json.components.securitySchemes.bearer);
  });
});
