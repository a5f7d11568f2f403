// The hub's log against deploy/elasticsearch/index-template.json, without Elasticsearch or Filebeat
// (neither runs here): a real hub at info with request logging makes some requests (one with a bad
// token), and every field of every JSON line it writes must be mapped by the template with a type
// its value fits (Elasticsearch expands dotted keys like "log.level" into objects, as here). Every
// line about a request carries its request id. No line carries a token or a message body.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { addAgent, http, send } from '../streams/clients.js';
import { DEPLOY } from './deploy-files.js';

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

const STRING = new Set(['keyword', 'text', 'match_only_text', 'wildcard', 'constant_keyword']);
const INTEGER = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT = new Set(['double', 'float', 'half_float', 'scaled_float']);

/** Problems of one value against its mapping, by path. */
function check(path: string, value: unknown, m: Mapping | undefined, problems: string[]): void {
  if (m === undefined) return void problems.push(`${path}: not in the template`);
  if (value === null) return;
  if (Array.isArray(value)) return value.forEach((v) => check(path, v, m, problems));
  if (typeof value === 'object') {
    if (m.properties === undefined) return void problems.push(`${path}: an object, mapped as ${m.type}`);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(path === '' ? k : `${path}.${k}`, k, v, m, problems);
    return;
  }
  const type = m.type ?? 'object';
  const ok =
    typeof value === 'string'
      ? STRING.has(type) || (type === 'date' && !Number.isNaN(Date.parse(value))) || (type === 'ip' && isIP(value) !== 0)
      : typeof value === 'number'
        ? (INTEGER.has(type) && Number.isInteger(value)) || FLOAT.has(type)
        : typeof value === 'boolean' && type === 'boolean';
  if (!ok) problems.push(`${path}: ${JSON.stringify(value)} does not fit ${type}`);
}

/** A key of an object, dotted keys expanded as Elasticsearch does. */
function walk(path: string, key: string, value: unknown, parent: Mapping, problems: string[]): void {
  const [head, ...rest] = key.split('.');
  const m = parent.properties?.[head as string];
  if (rest.length === 0) return check(path, value, m, problems);
  if (m?.properties === undefined) return void problems.push(`${path}: ${head} is not an object in the template`);
  walk(path, rest.join('.'), value, m, problems);
}

describe('the hub log and the Elasticsearch index template', () => {
  it('every field of every line is mapped with a fitting type, requests carry their id, no token or body is logged', { timeout: 60_000 }, async (t) => {
    const template = JSON.parse(readFileSync(join(DEPLOY, 'elasticsearch', 'index-template.json'), 'utf8')) as { template: { mappings: Mapping } };
    const hub = await spawnHub(join(tempDir(), 'hub'), { env: { SWARM_LOG_LEVEL: 'info', SWARM_LOG_REQUESTS: 'true' } });
    t.after(() => hub.kill());
    const BODY = 'zebra-quartz-body-7f3a1c';
    const sender = await addAgent(hub.url, hub.adminToken, 'Agent-1');
    const reader = await addAgent(hub.url, hub.adminToken, 'Agent-2');
    await send(hub.url, sender, { to: 'Agent-2', body: BODY, subject: 'subject-9d2e' });
    assert.equal((await http(hub.url, 'GET', '/v1/inbox', { token: reader })).status, 200);
    const bad = await http(hub.url, 'GET', '/v1/inbox', { token: `${sender.slice(0, -4)}XXXX` });
    assert.equal(bad.status, 401);
    assert.equal((await http(hub.url, 'GET', '/readyz')).status, 200);
    assert.equal(await hub.stop(), 0);

    const out = hub.output();
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    // stdout is JSON lines; the one plain line is stderr's "swarm hub listening on …" for people.
    const plain = lines.filter((l) => !l.startsWith('{'));
    assert.deepEqual(plain.map((l) => l.replace(/ on .*/, '')), ['swarm hub listening']);
    const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(records.length >= 12, `${records.length} lines`);

    const problems: string[] = [];
    for (const r of records) for (const [k, v] of Object.entries(r)) walk(k, k, v, template.template.mappings, problems);
    assert.deepEqual([...new Set(problems)], []);

    for (const r of records) {
      for (const f of ['@timestamp', 'log.level', 'message', 'service.name']) assert.ok(f in r, `${f} missing: ${JSON.stringify(r)}`);
      if ('http' in r) assert.match(String(r['http.request.id']), /^req-\d+$/, `a request line without its id: ${JSON.stringify(r)}`);
    }
    // Each request has its incoming and completed line under one id, the refused one too.
    const completed = records.filter((r) => r.message === 'request completed');
    assert.ok(completed.some((r) => (r.http as { response: { status_code: number } }).response.status_code === 401), 'the failed authentication is logged');
    for (const c of completed) assert.ok(records.some((r) => r.message === 'incoming request' && r['http.request.id'] === c['http.request.id']), `no incoming line for ${String(c['http.request.id'])}`);
    // ECS: the method, path and client of each incoming request, the duration of each completed
    // one, and the agent on the lines of an authenticated request.
    for (const r of records.filter((x) => x.message === 'incoming request')) {
      assert.equal(typeof (r.http as { request: { method?: string } }).request.method, 'string', JSON.stringify(r));
      assert.equal(typeof (r.url as { path?: string }).path, 'string', JSON.stringify(r));
      assert.equal(typeof (r.client as { ip?: string }).ip, 'string', JSON.stringify(r));
    }
    for (const c of completed) assert.equal(typeof (c.event as { duration?: number } | undefined)?.duration, 'number', JSON.stringify(c));
    assert.ok(completed.some((r) => r['user.id'] === 'Agent-2' && (r.http as { response: { status_code: number } }).response.status_code === 200), 'a request names its agent');

    for (const secret of [BODY, 'subject-9d2e', sender, reader, hub.adminToken, sender.slice(0, -4)]) assert.ok(!out.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
  });
});
