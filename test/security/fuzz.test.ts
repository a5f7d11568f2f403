// Property-based fuzzing (fast-check) of a real listening hub, on the store under test (SQLite, or
// PostgreSQL with SWARM_TEST_STORE=postgres: scripts/test.mjs runs this file on both): more than
// 30,000 generated hostile requests. 20,000 of them are generated from the hub's own
// `/openapi.json`, over every operation it lists (test/support/openapi-fuzz.ts): each breaks the
// operation's schema or carries no valid token. The others are bad JSON, wrong types, huge
// strings and unicode edge cases (lone surrogates, NUL, RTL overrides, emoji) in message bodies,
// and header injection, path tricks, wrong methods and bad Content-Length over raw sockets. Every
// request is one the hub must refuse: each answer is a 4xx (never a 5xx, never silence), the hub
// stays up, and the stored data, audit trail included, is exactly what it was, but for the audit
// records a refusal itself writes (failed authentications, acting for another agent). The rate
// limits are turned off here so that they cannot hide validation.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRecipients } from '../../src/domain/message.js';
import { storeCounts } from '../support/db.js';
import { type FuzzRequest, operationsOf, pct, requestsFor } from '../support/openapi-fuzz.js';
import { storeRows, type TestStore } from '../support/store.js';
import { addAgent, http, startStreamApp } from '../streams/clients.js';

/** Requests per property: 20,000 over the OpenAPI operations, 30,500 in all. */
const OPENAPI_RUNS = 20_000;
const JSON_RUNS = 7000;
const RAW_RUNS = 3500;
const BODY_LIMIT = 64 * 1024;
const KNOWN = new Set(['agent-1', 'agent-2', 'captain', 'admin', 'all', 'system']);

interface AuditRow {
  seq: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  detail: string;
  hash: string;
}

const audit = (s: TestStore): Promise<AuditRow[]> => storeRows<AuditRow>(s, 'SELECT seq, actor, action, target, outcome, detail, hash FROM audit ORDER BY seq');

/** Everything the hub stores that a request could change (not last-seen times; the audit trail apart). */
async function snapshot(s: TestStore): Promise<unknown> {
  const all = (sql: string): Promise<unknown[]> => storeRows(s, sql);
  return {
    counts: await storeCounts(s),
    agents: await all('SELECT id, role, specialty, status, mission, removed_at FROM agents ORDER BY id'),
    deliveries: await all('SELECT recipient, message_seq, state FROM deliveries ORDER BY recipient, message_seq'),
    tokens: await all('SELECT count(*) n FROM tokens'),
    channels: await all('SELECT name FROM channels ORDER BY name'),
    members: await all('SELECT * FROM channel_members ORDER BY 1, 2'),
    tasks: await all('SELECT id, status, assignee FROM tasks ORDER BY id'),
    reviews: await all('SELECT count(*) n FROM reviews'),
    templates: await all('SELECT count(*) n FROM templates'),
    settings: await all('SELECT count(*) n FROM settings'),
    templateRows: await all('SELECT name, body FROM templates ORDER BY name'),
  };
}

// ---- generators ----------------------------------------------------------------------------

const edgy = fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00\ud800', '\u202e', '\u200f', '\u2066', '\ufeff', '\uffff', '🦀', '👩‍👩‍👧‍👦', 'e\u0301', 'İ', 'ß', '\u00a0', '%00', '../', '..\\', '${7*7}', "'; DROP TABLE messages;--", '<script>', '\\u0000');
const unicode = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(edgy, fc.string({ maxLength: 5 })), { maxLength: 8 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);
/** Rarely huge: up to twice the body limit, so some bodies are refused as too large. */
const huge = fc.integer({ min: 1000, max: 2 * BODY_LIMIT }).chain((n) => fc.constantFrom('x', '\u202e', '🦀', '\u0000', '"').map((c) => c.repeat(Math.ceil(n / c.length))));
const hostileString = fc.oneof({ weight: 30, arbitrary: unicode }, { weight: 1, arbitrary: huge });
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, -1, 0, 1e308, -0, [], {}, [[[]]], { __proto__: null }) },
);

/** A `to` that names nobody registered: any value, or strings with no known address in them. */
const badRecipient = fc.oneof(hostileValue, fc.array(unicode, { maxLength: 4 })).filter((to) => {
  const list = typeof to === 'string' ? [to] : Array.isArray(to) && to.every((x) => typeof x === 'string') ? (to as string[]) : null;
  if (list === null) return true;
  return !parseRecipients(list).some((p) => KNOWN.has(p.toLowerCase()) || p.startsWith('#'));
});

const sendBody = fc.record(
  { to: badRecipient, body: hostileValue, subject: hostileValue, type: hostileValue, priority: hostileValue, tags: hostileValue, metadata: hostileValue, reply_to: hostileValue, extra: hostileValue },
  { requiredKeys: ['to'] },
);

/** Text that is not a JSON object: broken, truncated or of the wrong type. */
const notAnObject = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
    sendBody.map((b) => JSON.stringify(b) ?? '').chain((j) => fc.nat({ max: Math.max(0, j.length - 1) }).map((n) => j.slice(0, n))),
    fc.constantFrom('{"to":"Agent-2","body":"x",}', '{"to":"Agent-2","body":"x","__proto__":{"role":"admin"}}', '{"constructor":{"prototype":{}}}', 'null', '[]', '"x"', '1', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`),
  )
  .filter((text) => {
    try {
      const v: unknown = JSON.parse(text);
      return v === null || typeof v !== 'object' || Array.isArray(v);
    } catch {
      return true;
    }
  });

const queryPart = fc.tuple(unicode, unicode).map(([k, v]) => `${pct(`z${k}`)}=${pct(v)}`);

interface JsonReq {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  token: 'valid' | 'invalid' | 'none';
  badToken?: string;
}

/** Requests made with node:http: well-formed HTTP, hostile content. */
const jsonRequest: fc.Arbitrary<JsonReq> = fc.oneof(
  { weight: 4, arbitrary: sendBody.map((b) => ({ method: 'POST', path: '/v1/messages', body: JSON.stringify(b), token: 'valid' as const })) },
  { weight: 2, arbitrary: notAnObject.map((body) => ({ method: 'POST', path: '/v1/messages', body, token: 'valid' as const })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-7', ''), sendBody).map(([contentType, b]) => ({
      method: 'POST',
      path: '/v1/messages',
      body: JSON.stringify(b),
      contentType,
      token: 'valid' as const,
    })),
  },
  { weight: 1, arbitrary: fc.record({ status: hostileValue, mission: hostileValue }).filter((b) => !['online', 'busy', 'idle', 'offline'].includes(b.status as string)).map((b) => ({ method: 'PUT', path: '/v1/status', body: JSON.stringify(b), token: 'valid' as const })) },
  { weight: 1, arbitrary: fc.record({ ids: hostileValue }).map((b) => ({ method: 'POST', path: '/v1/ack', body: JSON.stringify(b), token: 'valid' as const })) },
  {
    weight: 1,
    arbitrary: fc.record({ name: hostileValue, description: hostileValue }).filter((b) => typeof b.name !== 'string' || !/^#?[a-z0-9][a-z0-9._-]{0,49}$/.test(b.name)).map((b) => ({ method: 'POST', path: '/v1/channels', body: JSON.stringify(b), token: 'valid' as const })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('/v1/inbox', '/v1/history', '/v1/agents', '/v1/tasks', '/v1/reports'), fc.array(queryPart, { minLength: 1, maxLength: 4 })).map(([p, q]) => ({ method: 'GET', path: `${p}?${q.join('&')}`, token: 'valid' as const })),
  },
  {
    // Anything at all with a token that is not one: 401 (or 404 outside the API).
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.constantFrom('/v1/messages', '/v1/inbox', '/v1/agents', '/v1/config/limits.agentRate', '/v1/tasks/next', '/v1/channels/general/join', '/v1/ack', '/v1/ws', '/v1/stream'),
        fc.option(sendBody.map((b) => JSON.stringify(b)), { nil: undefined }),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'x')), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `swarm_${s}`)),
      )
      .map(([method, path, body, badToken]) => ({ method, path, body, token: badToken === undefined ? ('none' as const) : ('invalid' as const), badToken })),
  },
);

interface RawReq {
  text: Buffer;
  /** Only GET/HEAD of public routes may answer 2xx: nothing here carries a valid token. */
  readOnly: boolean;
}

const pathTrick = fc.oneof(
  fc.constantFrom('/v1/../v1/messages', '/v1/%2e%2e/healthz', '/%2e%2e/%2e%2e/etc/passwd', '/v1/messages/..%2f..%2fadmin.token', '/v1/%252e%252e/', '/v1//messages', '/v1/messages/%00', '/v1/messages/%E0%A4%A', '/v1/agents/..', '//v1/inbox', '/v1/inbox;jsessionid=1', '/v1/inbox%3Flimit=1', '/v1/./inbox', '/V1/INBOX', '/v1/messages#frag', '*', 'http://evil.example/v1/inbox', '/v1/\u202einbox', '/v1/inbox\u0000', '/v1/🦀'),
  fc.array(fc.oneof(unicode, edgy), { minLength: 1, maxLength: 6 }).map((parts) => `/v1/${parts.join('/')}`),
  fc.array(unicode, { minLength: 1, maxLength: 4 }).map((parts) => `/v1/${parts.map((p) => pct(p).replace(/%/g, '%25')).join('/')}`),
  fc.integer({ min: 2000, max: 20_000 }).map((n) => `/v1/${'a'.repeat(n)}`),
  fc.tuple(fc.constantFrom('/v1/inbox', '/v1/history', '/healthz'), fc.array(queryPart, { minLength: 1, maxLength: 5 })).map(([p, q]) => `${p}?${q.join('&')}`),
);

const injection = fc.oneof(
  fc.constantFrom('\r\nX-Swarm-As: admin', '\r\nAuthorization: Bearer x', '\r\nSet-Cookie: a=b', '\r\nContent-Length: 0', '\r\nTransfer-Encoding: chunked', '\n', '\r', '\u0000', '\r\n ', '\u202e', 'é', '🦀', '\x7f', '\t'),
  unicode.map((s) => s.replace(/\r\n\r\n|\n\n|\r\r/g, '')),
);

const rawRequest: fc.Arbitrary<RawReq> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'get', 'G ET', 'FOO', 'POST\u0000', '🦀'), fc.string({ minLength: 1, maxLength: 10 }).map((s) => s.replace(/[\s]/g, 'X'))),
    path: pathTrick,
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', 'HTTP/9.9'),
    auth: fc.oneof(fc.constant(null), fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'Basic ', 'Bearer  ', ''), injection).map(([a, b]) => `${a}swarm_${b}`)),
    as: fc.option(injection, { nil: null }),
    extra: fc.array(fc.tuple(fc.constantFrom('X-Test', 'Content-Type', 'Accept', 'Last-Event-ID', 'Idempotency-Key', 'Host', 'Expect', 'Upgrade'), injection), { maxLength: 3 }),
    body: fc.option(fc.oneof(notAnObject, sendBody.map((b) => JSON.stringify(b))), { nil: null }),
    length: fc.constantFrom('exact', 'exact', 'exact', 'short', 'huge', 'negative', 'nan', 'twice', 'chunked-bad'),
  })
  .map((r) => {
    const body = Buffer.from(r.body ?? '', 'utf8');
    const head: string[] = [`${r.method} ${r.path} ${r.version}`, 'Host: 127.0.0.1'];
    if (r.auth !== null) head.push(`Authorization: ${r.auth}`);
    if (r.as !== null) head.push(`X-Swarm-As: ${r.as}`);
    for (const [k, v] of r.extra) head.push(`${k}: ${v}`);
    if (r.body !== null) head.push('Content-Type: application/json');
    switch (r.length) {
      case 'exact':
        if (r.body !== null) head.push(`Content-Length: ${body.length}`);
        break;
      case 'short':
        head.push(`Content-Length: ${Math.floor(body.length / 2)}`);
        break;
      case 'huge':
        head.push('Content-Length: 99999999999999999999');
        break;
      case 'negative':
        head.push('Content-Length: -1');
        break;
      case 'nan':
        head.push('Content-Length: 12abc');
        break;
      case 'twice':
        head.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
        break;
      case 'chunked-bad':
        head.push('Transfer-Encoding: chunked');
        break;
    }
    head.push('Connection: close');
    const tail = r.length === 'chunked-bad' ? Buffer.from(`zz\r\n${r.body ?? ''}\r\n0\r\n\r\n`, 'utf8') : body;
    // Header bytes as written: UTF-8 (so non-Latin-1 characters reach the parser as raw bytes).
    return { text: Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), tail]), readOnly: /^(GET|HEAD) /.test(`${r.method} `) };
  });

// ---- senders -------------------------------------------------------------------------------

function sendJson(port: number, agent: Agent, r: JsonReq, tokens: { valid: string }): Promise<number> {
  const headers: Record<string, string> = {};
  if (r.token === 'valid') headers.authorization = `Bearer ${tokens.valid}`;
  if (r.token === 'invalid') headers.authorization = `Bearer ${r.badToken ?? 'x'}`;
  const body = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
  if (body !== undefined) {
    headers['content-type'] = r.contentType ?? 'application/json';
    if (headers['content-type'] === '') delete headers['content-type'];
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends one request generated from the OpenAPI document; resolves with the status. */
function sendGenerated(port: number, agent: Agent, r: FuzzRequest, tokens: Record<'agent' | 'captain' | 'admin', string>): Promise<number> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.token === 'agent' || r.token === 'captain' || r.token === 'admin') headers.authorization = `Bearer ${tokens[r.token]}`;
  else if (r.badAuth !== undefined) headers.authorization = r.badAuth;
  if (r.as !== undefined) headers['x-swarm-as'] = r.as;
  const body = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
  if (body !== undefined) {
    headers['content-type'] = r.contentType ?? 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    // A head past the hub's 16 KiB limit is answered 431 while it is still being written, and the
    // connection closed: such a request gets a connection of its own, not the shared keep-alive one.
    const own = r.url.length > 8000;
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.url, headers, agent: own ? false : agent, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes and collects every status line the hub answers before it closes. */
function sendRaw(port: number, bytes: Buffer): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.end(bytes));
    const timer = setTimeout(() => s.destroy(new Error('no answer within 15 s')), 15_000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The hub may close while we still write (after answering 400 or 413): keep what it said.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve(statuses(Buffer.concat(chunks)));
      else reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(statuses(Buffer.concat(chunks)));
    });
  });
}

function statuses(b: Buffer): number[] {
  return [...b.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** The audit records a refused request may write; anything else new in the audit table is a change. */
function unexpectedAudit(rows: AuditRow[], principals: Set<string>): AuditRow[] {
  return rows.filter((r) => {
    // A failed authentication (missing, unknown or revoked token), refused before anything else.
    if (r.action === 'auth.failed') return !(r.actor === 'anonymous' && r.outcome === 'denied');
    // A call made for another agent is recorded before it is validated (ok), or refused (denied).
    if (r.action === 'act.as') return !(principals.has(r.actor) && (r.outcome === 'ok' || r.outcome === 'denied'));
    return true;
  });
}

describe(`fuzz: hostile requests against a real hub (${process.env.SWARM_TEST_STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'})`, () => {
  it(`${OPENAPI_RUNS + JSON_RUNS + RAW_RUNS} generated hostile requests: all refused with a 4xx, the hub stays up, nothing stored changes`, { timeout: 300_000 }, async (t) => {
    const { h, base } = await startStreamApp(t, {
      'limits.agentRate': 0,
      'auth.failureLimit': 1_000_000, // the bad tokens would otherwise lock the test's own address out
      'limits.addressRate': 0,
      'limits.loopRate': 1_000_000,
      'limits.bodyBytes': BODY_LIMIT,
      'store.synchronous': 'normal',
    });
    const port = Number(new URL(base).port);
    const a1 = await addAgent(base, h.adminToken, 'Agent-1');
    await addAgent(base, h.adminToken, 'Agent-2');
    const captain = await addAgent(base, h.adminToken, 'captain', 'captain');
    assert.equal((await http(base, 'POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'already here' } })).status, 201);
    assert.equal((await http(base, 'POST', '/v1/channels', { token: a1, body: { name: 'general' } })).status, 201);
    assert.equal((await http(base, 'POST', '/v1/tasks', { token: captain, body: { title: 'T', points: 1 } })).status, 201);
    const before = await snapshot(h);
    const auditBefore = await audit(h);
    const openapi = await http(base, 'GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    const operations = operationsOf(openapi.json);
    assert.ok(operations.length >= 50, `only ${operations.length} operations in /openapi.json`);

    const seen = new Map<number, number>();
    const count = (status: number): void => void seen.set(status, (seen.get(status) ?? 0) + 1);
    let sent = 0;
    /** Requests that may write an auth.failed record (no valid token), and act.as records. */
    let withoutToken = 0;
    let actingAs = 0;
    const perOperation = new Map<string, Map<string, number>>();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);

    const ingredients = { text: hostileString, value: hostileValue };
    // One arbitrary per operation, built once (building one compiles its patterns), picked evenly.
    const generated = fc.oneof(...operations.map((op) => requestsFor(op, ingredients, { notJson: notAnObject, actAs: ['Agent-1', 'Agent-2', 'captain', 'admin', 'Agent-9'] })));
    const tokens = { agent: a1, captain, admin: h.adminToken };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(generated, async (r) => {
        const status = await sendGenerated(port, agent, r, tokens);
        sent += 1;
        count(status);
        if (r.token === 'none' || r.token === 'unknown' || r.token === 'malformed') withoutToken += 1;
        if (r.as !== undefined) actingAs += 1;
        const byDefect = perOperation.get(r.op) ?? new Map<string, number>();
        perOperation.set(r.op, byDefect.set(`${r.defect} ${status}`, (byDefect.get(`${r.defect} ${status}`) ?? 0) + 1));
        // A refusal, with its status named when it is not (fast-check prints the request).
        if (status < 400 || status >= 500) throw new Error(`answered ${status}`);
      }),
      { numRuns: OPENAPI_RUNS, seed, endOnFailure: true },
    );
    t.diagnostic(`${OPENAPI_RUNS} requests over ${operations.length} operations of /openapi.json in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Picked evenly: each operation gets at least a third of its share (114 of 20,000 over 58).
    const least = Math.floor(OPENAPI_RUNS / operations.length / 3);
    const thin = operations.filter((op) => [...(perOperation.get(op.id)?.values() ?? [])].reduce((a, b) => a + b, 0) < least).map((op) => op.id);
    assert.deepEqual(thin, [], `operations fuzzed fewer than ${least} times`);
    // Past the token check: each operation that takes a body or parameters was refused for them too.
    const deep = operations.filter((op) => op.body !== null || op.params.length > 0).filter((op) => ![...(perOperation.get(op.id)?.keys() ?? [])].some((k) => !k.startsWith('token ') && / 4\d\d$/.test(k)));
    assert.deepEqual(deep.map((op) => op.id), [], 'operations refused only for their token');

    await fc.assert(
      fc.asyncProperty(jsonRequest, async (r) => {
        const status = await sendJson(port, agent, r, { valid: a1 });
        sent += 1;
        count(status);
        if (r.token !== 'valid') withoutToken += 1;
        // A refusal; a read (GET) may ignore a query parameter it does not know and answer.
        return status < 500 && (status >= 400 || r.method === 'GET');
      }),
      { numRuns: JSON_RUNS, seed, endOnFailure: true },
    );

    await fc.assert(
      fc.asyncProperty(rawRequest, async (r) => {
        const got = await sendRaw(port, r.text);
        sent += 1;
        withoutToken += 1;
        for (const s of got) count(s);
        // An answer, every one a refusal; a public read-only route (/healthz…) may answer GET/HEAD.
        // Silence is no refusal: a client cannot tell it from a hub that died.
        return got.length > 0 && got.every((s) => s < 500 && (s >= 400 || r.readOnly));
      }),
      { numRuns: RAW_RUNS, seed, endOnFailure: true },
    );

    t.diagnostic(`${sent} requests; answers: ${[...seen].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}`);
    assert.equal(sent, OPENAPI_RUNS + JSON_RUNS + RAW_RUNS);
    assert.ok(![...seen.keys()].some((s) => s >= 500), 'a 5xx answer');
    const health = await http(base, 'GET', '/healthz');
    assert.equal(health.status, 200, 'the hub is still up');
    assert.equal((await http(base, 'GET', '/v1/inbox', { token: a1 })).status, 200, 'and still answers its agents');
    assert.deepEqual(await snapshot(h), before, 'a refused request changed the store');

    // The audit trail: every record there before is there unchanged, and every new one is a record
    // a refusal writes, no more of them than such requests were sent; the chain still verifies.
    const auditAfter = await audit(h);
    assert.deepEqual(auditAfter.slice(0, auditBefore.length), auditBefore, 'a refused request changed an audit record');
    const added = auditAfter.slice(auditBefore.length);
    assert.deepEqual(unexpectedAudit(added, new Set(['Agent-1', 'captain', 'admin'])), [], 'a refused request wrote an audit record of something done');
    const failed = added.filter((r) => r.action === 'auth.failed').length;
    const actedAs = added.filter((r) => r.action === 'act.as').length;
    t.diagnostic(`audit: ${failed} auth.failed records for ${withoutToken} requests without a valid token; ${actedAs} act.as records for ${actingAs} requests acting for another agent`);
    assert.ok(failed <= withoutToken, `${failed} auth.failed records for ${withoutToken} requests without a valid token`);
    assert.ok(actedAs <= actingAs, `${actedAs} act.as records for ${actingAs} requests acting for another agent`);
    const verified = await http(base, 'GET', '/v1/audit/verify', { token: h.adminToken });
    assert.equal(verified.status, 200, verified.body);
    assert.equal(verified.json.ok, true, verified.body);
  });
});
