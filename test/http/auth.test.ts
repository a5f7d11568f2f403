// Authentication and roles over HTTP: who may call, act as whom, and see which messages. Every
// refusal is a problem document and leaves the store as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { assertProblem, inboxIds, type Res, sendOk } from './expect.js';

/** Runs a request that must be refused, and checks that the store did not change. */
async function refused(h: TestApp, status: number, code: string, run: () => Promise<Res>): Promise<void> {
  const before = await storeCounts(h);
  assertProblem(await run(), status, code);
  assert.deepEqual(await storeCounts(h), before, 'a refused request changed the store');
}

describe('authentication', () => {
  it('refuses a missing token on every /v1 route with 401', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('Agent-2');
    for (const [method, url, body] of [
      ['GET', '/v1/inbox', undefined],
      ['POST', '/v1/messages', { to: 'Agent-2', body: 'hi' }],
      ['POST', '/v1/ack', { ids: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] }],
      ['GET', '/v1/history', undefined],
      ['GET', '/v1/agents', undefined],
      ['POST', '/v1/agents', { id: 'Agent-9' }],
      ['POST', '/v1/onboard', { id: 'Agent-9' }],
      ['PUT', '/v1/status', { status: 'busy' }],
      ['GET', '/v1/whoami', undefined],
    ] as const) {
      await refused(h, 401, 'unauthorized', () => h.call(method, url, { token: '', body }));
    }
  });

  it('checks the token before the body: a bad body without a token is 401, not 400', async (t) => {
    const h = await startTestApp(t);
    await refused(h, 401, 'unauthorized', () => h.call('POST', '/v1/messages', { token: '', body: '{not json' }));
  });

  it('refuses a malformed Authorization header with 401', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    for (const authorization of [`Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer', 'Bearer ', `Bearer ${a1} extra`, a1, `Token ${a1}`]) {
      await refused(h, 401, 'unauthorized', () => h.call('GET', '/v1/inbox', { token: '', headers: { authorization } }));
    }
  });

  it('accepts the Bearer scheme case-insensitively', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const r = await h.call('GET', '/v1/whoami', { token: '', headers: { authorization: `bearer ${a1}` } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.principal.id, 'Agent-1');
  });

  it('refuses unknown tokens with 401', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('Agent-1');
    for (const token of ['nope', `swarm_${'A'.repeat(43)}`, `swarm_${'A'.repeat(44)}`]) {
      await refused(h, 401, 'unauthorized', () => h.call('GET', '/v1/inbox', { token }));
    }
  });

  it('refuses a removed agent’s token with 401, and a re-registered agent does not revive it', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    assert.equal((await h.call('GET', '/v1/inbox', { token: a1 })).status, 200);
    assert.equal((await h.call('DELETE', '/v1/agents/Agent-1')).status, 204);
    await refused(h, 401, 'unauthorized', () => h.call('GET', '/v1/inbox', { token: a1 }));
    await refused(h, 401, 'unauthorized', () => h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'ghost' } }));
    const fresh = await h.addAgent('Agent-1');
    await refused(h, 401, 'unauthorized', () => h.call('GET', '/v1/inbox', { token: a1 }));
    assert.equal((await h.call('GET', '/v1/inbox', { token: fresh })).status, 200);
  });

  it('leaves the operations endpoints open', async (t) => {
    const h = await startTestApp(t);
    for (const url of ['/healthz', '/readyz', '/openapi.json']) assert.equal((await h.call('GET', url, { token: '' })).status, 200, url);
  });
});

describe('acting as another agent (x-swarm-as)', () => {
  it('an agent may not act as another agent (403), but may name itself', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    await refused(h, 403, 'forbidden', () => h.call('GET', '/v1/inbox', { token: a1, as: 'Agent-2' }));
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/messages', { token: a1, as: 'Agent-2', body: { to: 'Agent-1', body: 'forged' } }));
    const self = await h.call('GET', '/v1/whoami', { token: a1, as: 'Agent-1' });
    assert.equal(self.status, 200);
    assert.equal(self.json.self.id, 'Agent-1');
  });

  it('a captain may act as an agent: its sends come from that agent and it reads that inbox', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const who = await h.call('GET', '/v1/whoami', { token: cap, as: 'Agent-1' });
    assert.equal(who.status, 200);
    assert.equal(who.json.principal.id, 'captain');
    assert.equal(who.json.self.id, 'Agent-1');
    const m = (await sendOk(h, cap, { to: 'Agent-2', body: 'on behalf' }, { as: 'Agent-1' })).message;
    assert.equal(m.from, 'Agent-1');
    assert.equal(m.kind, 'A2A');
    assert.deepEqual(await inboxIds(h, a2), [m.id]);
    const reply = (await sendOk(h, a2, { to: 'Agent-1', body: 'got it', reply_to: m.id })).message;
    const inbox = await h.call('GET', '/v1/inbox', { token: cap, as: 'Agent-1' });
    assert.equal(inbox.json.agent, 'Agent-1');
    assert.deepEqual(
      inbox.json.items.map((i: any) => i.message.id),
      [reply.id],
    );
    assert.deepEqual(await inboxIds(h, a1), [reply.id]);
  });

  it('a captain may not act as an admin or another captain (403)', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    await h.addAgent('captain-2', 'captain');
    await h.addAgent('Agent-1');
    for (const as of ['admin', 'captain-2']) {
      await refused(h, 403, 'forbidden', () => h.call('GET', '/v1/inbox', { token: cap, as }));
      await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/messages', { token: cap, as, body: { to: 'Agent-1', body: 'forged' } }));
    }
  });

  it('an admin may act as anyone; an unknown or removed agent is 404', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('captain', 'captain');
    await h.addAgent('root', 'admin');
    await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    for (const as of ['captain', 'root', 'Agent-1']) {
      const r = await h.call('GET', '/v1/whoami', { as });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.principal.id, 'admin');
      assert.equal(r.json.self.id, as);
    }
    const m = (await sendOk(h, h.adminToken, { to: 'all', body: 'from the captain' }, { as: 'captain' })).message;
    assert.equal(m.from, 'captain');
    assert.equal(m.kind, 'C2A-ALL');
    await refused(h, 404, 'agent_not_found', () => h.call('GET', '/v1/inbox', { as: 'Agent-404' }));
    assert.equal((await h.call('DELETE', '/v1/agents/Agent-2')).status, 204);
    await refused(h, 404, 'agent_not_found', () => h.call('POST', '/v1/messages', { as: 'Agent-2', body: { to: 'Agent-1', body: 'from beyond' } }));
  });
});

describe('roles', () => {
  it('an agent cannot broadcast (403), not even with all inside a list', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    for (const to of ['all', 'Agent-2,all', ['Agent-2', 'all']]) {
      await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/messages', { token: a1, body: { to, body: 'everyone!' } }));
    }
  });

  it('an agent cannot register, onboard, remove agents or send the wrap-up (403)', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/agents', { token: a1, body: { id: 'Agent-9' } }));
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/onboard', { token: a1, body: { id: 'Agent-9' } }));
    await refused(h, 403, 'forbidden', () => h.call('DELETE', '/v1/agents/Agent-2', { token: a1 }));
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/wrapup', { token: a1, body: { to: 'all' } }));
  });

  it('a captain registers and removes agents, but not captains or admins (403)', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    await h.addAgent('captain-2', 'captain');
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/agents', { token: cap, body: { id: 'cap-3', role: 'captain' } }));
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/agents', { token: cap, body: { id: 'root', role: 'admin' } }));
    await refused(h, 403, 'forbidden', () => h.call('POST', '/v1/onboard', { token: cap, body: { id: 'cap-3', role: 'captain' } }));
    await refused(h, 403, 'forbidden', () => h.call('DELETE', '/v1/agents/captain-2', { token: cap }));
    await refused(h, 403, 'forbidden', () => h.call('DELETE', '/v1/agents/admin', { token: cap }));
    const added = await h.call('POST', '/v1/agents', { token: cap, body: { id: 'Agent-5' } });
    assert.equal(added.status, 201, added.body);
    assert.equal(added.json.agent.role, 'agent');
    assert.equal((await h.call('DELETE', '/v1/agents/Agent-5', { token: cap })).status, 204);
  });

  it('nobody removes themselves (403)', async (t) => {
    const h = await startTestApp(t);
    await refused(h, 403, 'forbidden', () => h.call('DELETE', '/v1/agents/admin'));
  });
});

describe('what an agent may see', () => {
  it('read, ack and GET of a message it neither sent nor received are 404, not 403', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const m = (await sendOk(h, a1, { to: 'Agent-2', body: 'private' })).message;
    await refused(h, 404, 'message_not_found', () => h.call('POST', `/v1/messages/${m.id}/read`, { token: a3 }));
    await refused(h, 404, 'message_not_found', () => h.call('POST', '/v1/ack', { token: a3, body: { ids: [m.id] } }));
    await refused(h, 404, 'message_not_found', () => h.call('GET', `/v1/messages/${m.id}`, { token: a3 }));
    await refused(h, 404, 'message_not_found', () => h.call('GET', `/v1/threads/${m.id}`, { token: a3 }));
    await refused(h, 404, 'message_not_found', () => h.call('POST', '/v1/messages', { token: a3, body: { to: 'Agent-1', body: 'sneaky', reply_to: m.id } }));
    // The sender sees it, but it is not in the sender's inbox to read or ack.
    assert.equal((await h.call('GET', `/v1/messages/${m.id}`, { token: a1 })).status, 200);
    await refused(h, 404, 'message_not_found', () => h.call('POST', `/v1/messages/${m.id}/read`, { token: a1 }));
  });

  it('history shows an agent only its own messages; captains and admins see all', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const m12 = (await sendOk(h, a1, { to: 'Agent-2', body: 'one to two' })).message.id;
    const m23 = (await sendOk(h, a2, { to: 'Agent-3', body: 'two to three' })).message.id;
    const m31 = (await sendOk(h, a3, { to: 'Agent-1', body: 'three to one' })).message.id;
    const ids = async (token: string, query = '', as?: string): Promise<string[]> => {
      const r = await h.call('GET', `/v1/history${query}`, { token, as });
      assert.equal(r.status, 200, r.body);
      return r.json.messages.map((m: any) => m.id);
    };
    assert.deepEqual(await ids(a1), [m31, m12]);
    assert.deepEqual(await ids(a2), [m23, m12]);
    assert.deepEqual(await ids(a1, '?agent=Agent-2'), [m12], 'another agent’s filter does not widen the view');
    assert.deepEqual(await ids(a1, '?search=two'), [m12]);
    assert.deepEqual(await ids(h.adminToken), [m31, m23, m12]);
    assert.deepEqual(await ids(cap), [m31, m23, m12]);
    assert.deepEqual(await ids(cap, '', 'Agent-3'), [m31, m23], 'acting as an agent sees that agent’s view');
  });

  it('a thread shows an agent only the messages it sent or received; admin sees all', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const root = (await sendOk(h, a1, { to: 'Agent-2', body: 'question' })).message.id;
    const back = (await sendOk(h, a2, { to: 'Agent-1', body: 'answer', reply_to: root })).message.id;
    const aside = (await sendOk(h, a2, { to: 'Agent-3', body: 'forwarding', reply_to: root })).message.id;
    const thread = async (token: string, id: string): Promise<string[]> => {
      const r = await h.call('GET', `/v1/threads/${id}`, { token });
      assert.equal(r.status, 200, r.body);
      return r.json.messages.map((m: any) => m.id);
    };
    assert.deepEqual(await thread(a1, root), [root, back]);
    assert.deepEqual(await thread(a2, root), [root, back, aside]);
    assert.deepEqual(await thread(a3, aside), [aside]);
    assert.deepEqual(await thread(h.adminToken, back), [root, back, aside]);
  });
});
