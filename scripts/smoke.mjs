// The smoke test of a deployed hub, through its public URL: /healthz and /readyz answer; a
// captain's (or admin's) token onboards two throwaway agents; one sends to the other; the other
// receives the message by long-polling its inbox, finds the body it was sent and acknowledges it;
// both agents are removed again. Only the HTTP API and Node's fetch: it runs wherever Node 20 runs,
// against any hub (a laptop's, staging, production), and needs no install or build.
//
//   SWARM_SMOKE_TOKEN=<captain token> node scripts/smoke.mjs --hub https://swarm.staging.example.com
//
// --hub and --token default to SWARM_SMOKE_URL and SWARM_SMOKE_TOKEN. A hub whose certificate comes
// from a private CA: NODE_EXTRA_CA_CERTS=ca.pem. Exit 0: passed; 1: a check failed (which step and
// why on stderr, and in the job summary under GitHub Actions); 2: usage.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { report, table } from './summary.mjs';

const USAGE = 'usage: node scripts/smoke.mjs --hub URL [--token TOKEN] [--wait SECONDS] [--request-timeout SECONDS]\n  (or SWARM_SMOKE_URL and SWARM_SMOKE_TOKEN in the environment)';

class SmokeFailure extends Error {}

function usage(message) {
  process.stderr.write(`smoke: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { hub: { type: 'string' }, token: { type: 'string' }, wait: { type: 'string', default: '30' }, 'request-timeout': { type: 'string', default: '15' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usage(e.message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const hub = values.hub ?? process.env.SWARM_SMOKE_URL ?? '';
  const token = values.token ?? process.env.SWARM_SMOKE_TOKEN ?? '';
  if (hub === '') usage('no hub URL: give --hub or set SWARM_SMOKE_URL');
  if (token === '') usage('no token: give --token or set SWARM_SMOKE_TOKEN (a captain’s or an admin’s)');
  let url;
  try {
    url = new URL(hub);
  } catch {
    usage(`--hub ${JSON.stringify(hub)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') usage(`--hub must be an http:// or https:// URL, not ${url.protocol}`);
  const seconds = (name) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0 || n > 600) usage(`--${name} must be a number of seconds between 0 and 600, not ${JSON.stringify(values[name])}`);
    return n;
  };
  return { base: url.href.replace(/\/+$/, ''), token, waitMs: seconds('wait') * 1000, requestMs: seconds('request-timeout') * 1000 };
}

const opts = options();

/** One request; answers { status, body } or throws a SmokeFailure saying what went wrong. */
async function call(method, path, { token, body, timeoutMs = opts.requestMs } = {}) {
  const headers = { accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(opts.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new SmokeFailure(`${method} ${path}: cannot reach ${opts.base} (${e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : cause})`);
  }
  const text = await res.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new SmokeFailure(`${method} ${path}: answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

/** The request must answer `want`; otherwise the problem document's code and detail say why. */
async function expect(want, method, path, o) {
  const r = await call(method, path, o);
  if (r.status !== want) {
    const why = r.body?.code !== undefined ? `${r.body.code}: ${r.body.detail ?? r.body.title}` : JSON.stringify(r.body ?? '').slice(0, 200);
    throw new SmokeFailure(`${method} ${path}: answered ${r.status}, expected ${want} (${why})`);
  }
  return r.body;
}

const steps = [];
async function step(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    steps.push([name, 'ok', `${Date.now() - started} ms`, detail ?? '']);
  } catch (e) {
    steps.push([name, 'FAILED', `${Date.now() - started} ms`, e.message]);
    throw e;
  }
}

const run = `smoke-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const sender = { id: `${run}-a`, token: '' };
const receiver = { id: `${run}-b`, token: '' };
const created = [];

/** The checks, in order; throws at the first that fails. */
async function scenario() {
  await step('healthz', async () => void (await expect(200, 'GET', '/healthz')));
  await step('readyz', async () => void (await expect(200, 'GET', '/readyz')));
  await step('token', async () => {
    const me = await expect(200, 'GET', '/v1/whoami', { token: opts.token });
    if (me?.principal?.role !== 'captain' && me?.principal?.role !== 'admin') {
      throw new SmokeFailure(`the token is ${me?.principal?.id}'s, role ${me?.principal?.role}: onboarding and removing the smoke agents needs a captain's or an admin's`);
    }
    return `${me.principal.id} (${me.principal.role})`;
  });
  for (const agent of [sender, receiver]) {
    await step(`onboard ${agent.id}`, async () => {
      const r = await expect(201, 'POST', '/v1/onboard', { token: opts.token, body: { id: agent.id, specialty: 'smoke test (removed when it ends)' } });
      created.push(agent.id);
      agent.token = r.token;
    });
  }
  const text = `smoke ${run}: ${new Date().toISOString()}`;
  let id = '';
  await step('send', async () => {
    const r = await expect(201, 'POST', '/v1/messages', { token: sender.token, body: { to: receiver.id, subject: 'smoke', body: text, idempotency_key: run } });
    id = r.message.id;
    return id;
  });
  await step('receive', async () => {
    const deadline = Date.now() + opts.waitMs;
    for (let polls = 1; ; polls++) {
      const left = deadline - Date.now();
      if (left <= 0) throw new SmokeFailure(`message ${id} not in ${receiver.id}'s inbox within ${opts.waitMs / 1000} s (${polls - 1} polls)`);
      const wait = Math.max(1, Math.min(10, Math.floor(left / 1000)));
      const inbox = await expect(200, 'GET', `/v1/inbox?wait=${wait}&limit=100`, { token: receiver.token, timeoutMs: opts.requestMs + wait * 1000 });
      const item = inbox.items.find((i) => i.message.id === id);
      if (item !== undefined) {
        if (item.message.body !== text) throw new SmokeFailure(`message ${id} arrived with another body: ${JSON.stringify(item.message.body).slice(0, 200)}`);
        return `after ${polls} poll${polls === 1 ? '' : 's'}`;
      }
      // An inbox that already holds the onboarding message answers at once: wait before asking again.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
  await step('ack', async () => {
    const r = await expect(200, 'POST', '/v1/ack', { token: receiver.token, body: { ids: [id] } });
    if (!r.acked.includes(id)) throw new SmokeFailure(`ack of ${id} answered ${JSON.stringify(r)}`);
  });
}

/** Removes the agents the run created, also after a failure; answers the first failure. */
async function cleanup() {
  let first = null;
  for (const agentId of created.reverse()) {
    try {
      await step(`remove ${agentId}`, async () => void (await expect(204, 'DELETE', `/v1/agents/${agentId}`, { token: opts.token })));
    } catch (e) {
      if (!(e instanceof SmokeFailure)) throw e;
      first ??= e;
    }
  }
  return first;
}

let failure = null;
let crash = null;
try {
  await scenario();
} catch (e) {
  if (e instanceof SmokeFailure) failure = e;
  else crash = e;
}
const cleanupFailure = await cleanup();
if (crash !== null) throw crash;
failure ??= cleanupFailure;

report(`### Smoke test of ${opts.base}: ${failure === null ? 'passed' : 'FAILED'}\n\n${table(['step', 'result', 'took', 'detail'], steps)}\n`);
if (failure !== null) {
  process.stderr.write(`smoke: FAILED: ${failure.message}\n`);
  process.exit(1);
}
