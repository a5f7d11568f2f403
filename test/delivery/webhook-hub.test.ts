// A webhook target driven through a real hub process (either store), by the CLI, against a real
// receiver that answers 500s, hangs past the timeout, refuses connections and then recovers: every
// message arrives at least once, every push is signed, and the breaker opens and closes where
// `swarm targets status` and /metrics show it. Then a hub killed (SIGKILL) while it holds pushes:
// nothing is lost, the pushes come again once their leases run out.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { spawnHub, type HubProcess } from '../support/process.js';
import { testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { okJson, swarm } from '../e2e/helpers.js';

/** Fast retries and a quick breaker, so that a test sees all of its states in seconds. */
const FAST = {
  SWARM_TARGETS_BACKOFF_SECONDS: '0.05',
  SWARM_TARGETS_BACKOFF_MAX_SECONDS: '0.2',
  SWARM_TARGETS_BREAKER_FAILURES: '3',
  SWARM_TARGETS_BREAKER_SECONDS: '0.4',
  SWARM_MAX_ATTEMPTS: '1000',
  SWARM_AGENT_RATE: '0',
};

async function hubWithAgents(t: TestContext, store: TestStore, env: Record<string, string>): Promise<{ hub: HubProcess; sender: string; receiver: string }> {
  const hub = await spawnHub(store.dir, { store, env });
  t.after(() => hub.stop());
  const add = async (id: string): Promise<string> => okJson(await swarm(hub.url, ['agents', 'add', id, '--json'], { token: hub.adminToken })).token as string;
  return { hub, sender: await add('Agent-1'), receiver: await add('Agent-2') };
}

async function metric(url: string, name: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sendMany(url: string, token: string, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: 'Agent-2', body: `${tag} ${i}` }) });
    assert.equal(r.status, 201);
    ids.push(((await r.json()) as { message: { id: string } }).message.id);
  }
  return ids;
}

describe('a webhook target through a real hub', () => {
  it('survives 500s, timeouts and refused connections: every message arrives signed, and the breaker opens and closes in status and metrics', async (t) => {
    let secret = '';
    const rx: Receiver = await startReceiver(() => secret);
    t.after(() => rx.close());
    const store = testStore(t);
    const { hub, sender, receiver } = await hubWithAgents(t, store, FAST);
    const added = okJson(await swarm(hub.url, ['targets', 'add', 'Agent-2', 'webhook', rx.url, '--timeout', '0.3', '--json'], { token: receiver }));
    secret = added.secret as string;
    assert.match(secret, /^whsec_/);
    const id = added.target.id as string;

    rx.mode = 'fail500';
    const ids = await sendMany(hub.url, sender, 20, 'during 500s');
    const status = async (): Promise<any> => okJson(await swarm(hub.url, ['targets', 'status', '--agent', 'Agent-2', '--json'], { token: receiver })).targets[0];
    await until('the breaker to open', 10_000, async () => (await status()).breaker.state === 'open');
    const open = await status();
    assert.match(open.last_error, /http_status: .*500/);
    assert.ok(open.backlog.pending >= 1, JSON.stringify(open.backlog));
    // The breaker goes half-open after 0.4 s and opens again on the next 500, so the metric is read
    // until it shows open rather than once (CI once read it in the half-open moment).
    const openLine = `swarm_target_breaker_state{target="${id}",kind="webhook"} 2`;
    await until('the breaker metric to show open', 10_000, async () => (await metric(hub.url, `swarm_target_breaker_state{target="${id}",kind="webhook"}`)).includes(openLine));

    rx.mode = 'hang';
    await until('a push that times out', 10_000, async () => /timeout/.test((await status()).last_error ?? ''));
    await rx.close();
    await until('a refused connection', 10_000, async () => /refused/.test((await status()).last_error ?? ''));
    ids.push(...(await sendMany(hub.url, sender, 10, 'while down')));

    rx.mode = 'ok';
    await rx.reopen();
    await rx.waitDelivered(ids.length, 30_000);
    assert.deepEqual([...rx.delivered].sort(), [...ids].sort(), 'every message, no other');
    assert.deepEqual(rx.pushes.filter((p) => !p.verified), [], 'every push carries a valid signature');
    assert.ok(rx.pushes.some((p) => p.attempt > 1), 'some arrived on a retry');
    await until('the breaker to close', 10_000, async () => (await status()).breaker.state === 'closed');
    const after = await status();
    assert.deepEqual(after.backlog, { pending: 0, dead: 0, oldest_at: null });
    assert.notEqual(after.last_success_at, null);
    assert.deepEqual(await metric(hub.url, `swarm_target_breaker_state{target="${id}",kind="webhook"}`), [`swarm_target_breaker_state{target="${id}",kind="webhook"} 0`]);
    const outcomes = await metric(hub.url, 'swarm_target_pushes_total{kind="webhook"');
    for (const o of ['ok', 'http_status', 'timeout', 'refused']) assert.ok(outcomes.some((l) => l.includes(`outcome="${o}"`)), `${o} counted: ${outcomes.join(' | ')}`);
    // The agent's inbox is untouched: a push is not an acknowledgement.
    const inbox = okJson(await swarm(hub.url, ['inbox', '-n', '100', '--json'], { token: receiver }));
    assert.equal(inbox.items.length, ids.length);
    // Before the test store's own clean-up (hooks run in the order added) drops its schema.
    await hub.stop();
  });

  it('loses nothing when the hub holding pushes is killed: they come again once their leases run out', async (t) => {
    let secret = '';
    const rx = await startReceiver(() => secret);
    t.after(() => rx.close());
    const store = testStore(t, join(tempDir(), 'hub'));
    const env = { ...FAST, SWARM_TARGETS_LEASE_SECONDS: '1' };
    const { hub, sender, receiver } = await hubWithAgents(t, store, env);
    secret = okJson(await swarm(hub.url, ['targets', 'add', 'Agent-2', 'webhook', rx.url, '--timeout', '60', '--json'], { token: receiver })).secret as string;
    rx.mode = 'hang';
    const ids = await sendMany(hub.url, sender, 8, 'held');
    await until('pushes held by the receiver', 10_000, async () => rx.pushes.length >= 4);
    await hub.kill();
    rx.mode = 'ok';
    const again = await spawnHub(store.dir, { store, env });
    t.after(() => again.stop());
    await rx.waitDelivered(ids.length, 20_000);
    assert.deepEqual([...rx.delivered].sort(), [...ids].sort());
    assert.deepEqual(rx.pushes.filter((p) => !p.verified), []);
    await again.stop();
  });
});
