// Bad input gets a clear error and changes nothing: every case answers a 4xx problem document with
// a stable code, and the store holds exactly the rows it held before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigKey } from '../../src/config/keys.js';
import { storeCounts } from '../support/db.js';
import { startTestApp } from '../support/app.js';
import { assertProblem, UNKNOWN_ID } from './expect.js';

interface World {
  /** Agent-1's token: the caller of every case unless it says otherwise. */
  a1: string;
  admin: string;
  /** A message Agent-1 sent to Agent-2. */
  sent: string;
}

interface Case {
  name: string;
  flags?: Partial<Record<ConfigKey, unknown>>;
  req: (w: World) => { method: string; url: string; body?: unknown; headers?: Record<string, string>; token?: string };
  status: number;
  code: string;
}

const post = (url: string, body: unknown, headers?: Record<string, string>) => () => ({ method: 'POST', url, body, headers });
const send = (body: unknown, headers?: Record<string, string>) => post('/v1/messages', body, headers);
const get = (url: string) => () => ({ method: 'GET', url });
const ok = { to: 'Agent-2', body: 'hello' };

const CASES: Case[] = [
  // Bodies that are not JSON objects.
  { name: 'malformed JSON', req: send('{"to": "Agent-2", "body": '), status: 400, code: 'invalid_json' },
  { name: 'JSON with a trailing comma', req: send('{"to": "Agent-2", "body": "x",}'), status: 400, code: 'invalid_json' },
  { name: 'empty body with content-type json', req: send(''), status: 400, code: 'invalid_json' },
  { name: 'JSON null', req: send('null'), status: 400, code: 'validation_failed' },
  { name: 'JSON array', req: send('[]'), status: 400, code: 'validation_failed' },
  { name: 'JSON string', req: send('"hello"'), status: 400, code: 'validation_failed' },
  { name: 'content-type text/plain', req: send('to=Agent-2 body=hello', { 'content-type': 'text/plain' }), status: 415, code: 'unsupported_media_type' },
  { name: 'content-type application/xml', req: send('<msg to="Agent-2">hi</msg>', { 'content-type': 'application/xml' }), status: 415, code: 'unsupported_media_type' },
  { name: 'content-type form', req: send('to=Agent-2&body=hello', { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'unsupported_media_type' },
  { name: '__proto__ poisoning', req: send('{"to":"Agent-2","body":"x","__proto__":{"role":"admin"}}'), status: 400, code: 'invalid_json' },
  { name: 'constructor.prototype poisoning', req: send('{"to":"Agent-2","body":"x","constructor":{"prototype":{"role":"admin"}}}'), status: 400, code: 'invalid_json' },
  {
    name: 'oversized body',
    flags: { 'limits.bodyBytes': 2048 },
    req: send({ to: 'Agent-2', body: 'x'.repeat(4096) }),
    status: 413,
    code: 'payload_too_large',
  },

  // Fields of POST /v1/messages.
  { name: 'unknown field', req: send({ ...ok, colour: 'red' }), status: 400, code: 'validation_failed' },
  { name: 'missing to', req: send({ body: 'hello' }), status: 400, code: 'validation_failed' },
  { name: 'missing body', req: send({ to: 'Agent-2' }), status: 400, code: 'validation_failed' },
  { name: 'to: 5', req: send({ ...ok, to: 5 }), status: 400, code: 'validation_failed' },
  { name: 'to: []', req: send({ ...ok, to: [] }), status: 400, code: 'validation_failed' },
  { name: 'to: ""', req: send({ ...ok, to: '' }), status: 400, code: 'validation_failed' },
  { name: 'to: only commas', req: send({ ...ok, to: ' , ,' }), status: 400, code: 'validation_failed' },
  { name: 'body: []', req: send({ ...ok, body: [] }), status: 400, code: 'validation_failed' },
  { name: 'body: ""', req: send({ ...ok, body: '' }), status: 400, code: 'validation_failed' },
  { name: "priority: 'super'", req: send({ ...ok, priority: 'super' }), status: 400, code: 'validation_failed' },
  { name: "type: 'memo'", req: send({ ...ok, type: 'memo' }), status: 400, code: 'validation_failed' },
  { name: 'tags with spaces', req: send({ ...ok, tags: ['has space'] }), status: 400, code: 'validation_failed' },
  { name: 'tags as a string', req: send({ ...ok, tags: 'deploy' }), status: 400, code: 'validation_failed' },
  { name: 'metadata as an array', req: send({ ...ok, metadata: [1, 2] }), status: 400, code: 'validation_failed' },
  {
    // JSON.parse takes any depth, but serialising it again (request hash, store) overflows the stack.
    name: 'metadata nested 10,000 deep',
    req: send(`{"to":"Agent-2","body":"x","metadata":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`),
    status: 400,
    code: 'validation_failed',
  },
  { name: 'metadata as a string', req: send({ ...ok, metadata: 'x' }), status: 400, code: 'validation_failed' },
  { name: 'subject too long', req: send({ ...ok, subject: 's'.repeat(301) }), status: 400, code: 'validation_failed' },
  { name: 'thread_id not a message id', req: send({ ...ok, thread_id: 'thread-1' }), status: 400, code: 'validation_failed' },
  { name: 'reply_to not a message id', req: send({ ...ok, reply_to: 42 }), status: 400, code: 'validation_failed' },
  { name: 'reply_to an unknown message', req: send({ ...ok, reply_to: UNKNOWN_ID }), status: 404, code: 'message_not_found' },
  { name: 'expires_at in the past', req: send({ ...ok, expires_at: '2001-01-01T00:00:00Z' }), status: 400, code: 'validation_failed' },
  { name: 'expires_at not a time', req: send({ ...ok, expires_at: 'tomorrow' }), status: 400, code: 'validation_failed' },
  { name: 'empty Idempotency-Key header', req: send(ok, { 'idempotency-key': '' }), status: 400, code: 'validation_failed' },
  { name: 'empty idempotency_key field', req: send({ ...ok, idempotency_key: '' }), status: 400, code: 'validation_failed' },

  // Recipients.
  { name: 'unknown recipient', req: send({ ...ok, to: 'Agent-404' }), status: 422, code: 'unknown_recipient' },
  { name: 'one unknown recipient in a comma list', req: send({ ...ok, to: 'Agent-2,Agent-404' }), status: 422, code: 'unknown_recipient' },
  { name: 'one unknown recipient in an array', req: send({ ...ok, to: ['Agent-2', 'Agent-404'] }), status: 422, code: 'unknown_recipient' },
  { name: 'unknown #channel recipient', req: send({ ...ok, to: '#no-such-channel' }), status: 422, code: 'unknown_recipient' },
  { name: 'system as a recipient', req: send({ ...ok, to: 'system' }), status: 422, code: 'unknown_recipient' },
  { name: 'invalid agent id in to', req: send({ ...ok, to: 'bad id!' }), status: 400, code: 'validation_failed' },
  { name: 'invalid agent id in a comma list', req: send({ ...ok, to: 'Agent-2,../etc' }), status: 400, code: 'validation_failed' },
  {
    name: 'too many recipients',
    flags: { 'limits.recipients': 2 },
    req: send({ ...ok, to: ['Agent-2', 'Agent-3', 'Agent-1'] }),
    status: 400,
    code: 'validation_failed',
  },

  // Message ids in URL parameters.
  { name: 'GET a message by a malformed id', req: get('/v1/messages/not-an-id'), status: 400, code: 'validation_failed' },
  { name: 'GET a message by a lowercase id', req: get(`/v1/messages/${UNKNOWN_ID.toLowerCase()}`), status: 400, code: 'validation_failed' },
  { name: 'read a malformed id', req: post('/v1/messages/123/read', undefined), status: 400, code: 'validation_failed' },
  { name: 'thread of a malformed id', req: get('/v1/threads/%00'), status: 400, code: 'validation_failed' },
  { name: 'a message id with broken percent-encoding', req: get('/v1/messages/%E0%A4%A'), status: 400, code: 'validation_failed' },
  { name: 'read an unknown message', req: post(`/v1/messages/${UNKNOWN_ID}/read`, undefined), status: 404, code: 'message_not_found' },
  { name: 'GET an unknown message', req: get(`/v1/messages/${UNKNOWN_ID}`), status: 404, code: 'message_not_found' },

  // POST /v1/ack.
  { name: 'ack with no ids', req: post('/v1/ack', { ids: [] }), status: 400, code: 'validation_failed' },
  { name: 'ack a malformed id', req: post('/v1/ack', { ids: ['nope'] }), status: 400, code: 'validation_failed' },
  { name: 'ack ids as a string', req: (w) => ({ method: 'POST', url: '/v1/ack', body: { ids: w.sent } }), status: 400, code: 'validation_failed' },
  { name: 'ack with an unknown field', req: (w) => ({ method: 'POST', url: '/v1/ack', body: { ids: [w.sent], all: true } }), status: 400, code: 'validation_failed' },
  { name: 'ack an unknown message', req: post('/v1/ack', { ids: [UNKNOWN_ID] }), status: 404, code: 'message_not_found' },
  { name: 'ack a message sent, not received', req: (w) => ({ method: 'POST', url: '/v1/ack', body: { ids: [w.sent] } }), status: 404, code: 'message_not_found' },

  // Query strings.
  { name: 'inbox limit=0', req: get('/v1/inbox?limit=0'), status: 400, code: 'validation_failed' },
  { name: 'inbox limit=abc', req: get('/v1/inbox?limit=abc'), status: 400, code: 'validation_failed' },
  { name: 'inbox limit=1.5', req: get('/v1/inbox?limit=1.5'), status: 400, code: 'validation_failed' },
  { name: 'inbox limit=100000', req: get('/v1/inbox?limit=100000'), status: 400, code: 'validation_failed' },
  { name: 'inbox unknown query parameter', req: get('/v1/inbox?colour=red'), status: 400, code: 'validation_failed' },
  { name: 'inbox unread=maybe', req: get('/v1/inbox?unread=maybe'), status: 400, code: 'validation_failed' },
  { name: 'inbox wait=-1', req: get('/v1/inbox?wait=-1'), status: 400, code: 'validation_failed' },
  { name: 'inbox wait=abc', req: get('/v1/inbox?wait=abc'), status: 400, code: 'validation_failed' },
  { name: 'inbox wait above limits.waitSeconds', flags: { 'limits.waitSeconds': 5 }, req: get('/v1/inbox?wait=6'), status: 400, code: 'validation_failed' },
  { name: 'history limit=0', req: get('/v1/history?limit=0'), status: 400, code: 'validation_failed' },
  { name: 'history since=yesterday', req: get('/v1/history?since=yesterday'), status: 400, code: 'validation_failed' },
  { name: 'history type=memo', req: get('/v1/history?type=memo'), status: 400, code: 'validation_failed' },
  { name: 'history agent=bad id', req: get('/v1/history?agent=bad%20id'), status: 400, code: 'validation_failed' },
  { name: 'history empty search', req: get('/v1/history?search='), status: 400, code: 'validation_failed' },
  { name: 'history unknown query parameter', req: get('/v1/history?order=asc'), status: 400, code: 'validation_failed' },

  // The roster (as admin, so that only the input is wrong).
  { name: 'register a malformed agent id', req: (w) => ({ method: 'POST', url: '/v1/agents', token: w.admin, body: { id: 'bad id' } }), status: 400, code: 'validation_failed' },
  { name: 'register the reserved id all', req: (w) => ({ method: 'POST', url: '/v1/agents', token: w.admin, body: { id: 'all' } }), status: 400, code: 'validation_failed' },
  { name: 'register the reserved id system', req: (w) => ({ method: 'POST', url: '/v1/agents', token: w.admin, body: { id: 'system' } }), status: 400, code: 'validation_failed' },
  { name: 'register an unknown role', req: (w) => ({ method: 'POST', url: '/v1/agents', token: w.admin, body: { id: 'Agent-9', role: 'god' } }), status: 400, code: 'validation_failed' },
  { name: 'register an existing agent', req: (w) => ({ method: 'POST', url: '/v1/agents', token: w.admin, body: { id: 'Agent-2' } }), status: 409, code: 'agent_exists' },
  { name: 'onboard an existing agent', req: (w) => ({ method: 'POST', url: '/v1/onboard', token: w.admin, body: { id: 'Agent-2' } }), status: 409, code: 'agent_exists' },
  { name: 'onboard a malformed id', req: (w) => ({ method: 'POST', url: '/v1/onboard', token: w.admin, body: { id: '' } }), status: 400, code: 'validation_failed' },
  { name: 'remove an unknown agent', req: (w) => ({ method: 'DELETE', url: '/v1/agents/Agent-404', token: w.admin }), status: 404, code: 'agent_not_found' },
  { name: 'remove a malformed agent id', req: (w) => ({ method: 'DELETE', url: '/v1/agents/bad%20id', token: w.admin }), status: 400, code: 'validation_failed' },
  { name: 'GET an unknown agent', req: get('/v1/agents/Agent-404'), status: 404, code: 'agent_not_found' },
  { name: 'wrap-up to an unknown agent', req: (w) => ({ method: 'POST', url: '/v1/wrapup', token: w.admin, body: { to: 'Agent-404' } }), status: 404, code: 'agent_not_found' },
  { name: 'wrap-up with a malformed target', req: (w) => ({ method: 'POST', url: '/v1/wrapup', token: w.admin, body: { to: 7 } }), status: 400, code: 'validation_failed' },
  { name: 'status: sleeping', req: () => ({ method: 'PUT', url: '/v1/status', body: { status: 'sleeping' } }), status: 400, code: 'validation_failed' },
  { name: 'status mission too long', req: () => ({ method: 'PUT', url: '/v1/status', body: { status: 'busy', mission: 'm'.repeat(501) } }), status: 400, code: 'validation_failed' },
  { name: 'acting as an unknown agent', req: (w) => ({ method: 'GET', url: '/v1/inbox', token: w.admin, headers: { 'x-swarm-as': 'Agent-404' } }), status: 404, code: 'agent_not_found' },

  // Routes.
  { name: 'unknown route', req: get('/v1/nope'), status: 404, code: 'not_found' },
  { name: 'unknown method on a route', req: () => ({ method: 'PATCH', url: '/v1/messages', body: ok }), status: 404, code: 'not_found' },
];

describe('bad input gets a problem document and changes nothing', () => {
  for (const c of CASES) {
    it(c.name, async (t) => {
      const h = await startTestApp(t, c.flags);
      const a1 = await h.addAgent('Agent-1');
      await h.addAgent('Agent-2');
      await h.addAgent('Agent-3');
      const sent = await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'already here' } });
      assert.equal(sent.status, 201, sent.body);
      const w: World = { a1, admin: h.adminToken, sent: sent.json.message.id };
      const before = await storeCounts(h);

      const { method, url, body, headers, token } = c.req(w);
      const r = await h.call(method, url, { token: token ?? a1, body, headers });

      assertProblem(r, c.status, c.code);
      assert.deepEqual(await storeCounts(h), before, 'a refused request changed the store');
    });
  }
});

describe('validation problems say where the input is wrong', () => {
  it('lists each offending field with its path', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const r = await h.call('POST', '/v1/messages', { token: a1, body: { to: 5, body: '', colour: 'red' } });
    assertProblem(r, 400, 'validation_failed');
    const paths = (r.json.errors as { path: string }[]).map((e) => e.path);
    assert.ok(paths.includes('body.to'), `paths: ${paths.join(', ')}`);
    assert.ok(paths.includes('body.body'), `paths: ${paths.join(', ')}`);
    assert.match(r.json.detail, /colour/);
  });

  it('names the offending query parameter', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const r = await h.call('GET', '/v1/inbox?limit=0', { token: a1 });
    assertProblem(r, 400, 'validation_failed');
    assert.match(r.json.detail, /limit/);
  });
});
