// An answered send is a stored send: with the default durability (store.synchronous full) every 2xx
// survives SIGKILL of the hub process, an idempotency key stores a message once even across a crash,
// and SIGTERM lets in-flight sends commit before the process exits 0.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tableCounts } from '../support/db.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, okJson, registerAgents, swarm, within } from './helpers.js';

const AGENTS = ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-5'];

/** Runs `task(i)` for i = 0…n-1 on `clients` concurrent workers; each worker stops at its first false. */
async function pool(n: number, clients: number, task: (i: number) => Promise<boolean>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        const i = next++;
        if (!(await task(i))) return;
      }
    }),
  );
}

async function startHub(t: { after: (fn: () => Promise<void>) => void }, dataDir: string, cwd: string): Promise<HubProcess> {
  // Sends as fast as the hub commits them: the per-agent rate limit would measure itself.
  const hub = await spawnHub(dataDir, { cwd, env: { SWARM_AGENT_RATE: '0' } });
  t.after(() => hub.kill());
  return hub;
}

/** Every id is stored, with its body, as seen through a (restarted) hub. */
async function assertAllStored(hub: HubProcess, sent: Map<string, string>): Promise<void> {
  const ids = [...sent.keys()];
  const missing: string[] = [];
  await pool(ids.length, 20, async (i) => {
    const id = ids[i] ?? '';
    const r = await http(hub.url, 'GET', `/v1/messages/${id}`, { token: hub.adminToken });
    if (r.status !== 200 || r.json.message.body !== sent.get(id)) missing.push(`${id}: ${r.status}`);
    return true;
  });
  assert.deepEqual(missing, [], `${missing.length} of ${ids.length} acknowledged sends are missing`);
}

describe('durability', () => {
  it('keeps every acknowledged send across SIGKILL of the hub', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await startHub(t, dataDir, dir);
    await registerAgents(hub.url, hub.adminToken, AGENTS);
    const N = 300;
    const sent = new Map<string, string>();
    const failures: string[] = [];
    await within(
      60_000,
      `${N} sends`,
      pool(N, 20, async (i) => {
        const body = `durability check ${i}: ünïcødé ✅`;
        const r = await http(hub.url, 'POST', '/v1/messages', { token: hub.adminToken, body: { to: AGENTS[i % AGENTS.length], body } });
        if (r.status === 201) sent.set(r.json.message.id, body);
        else failures.push(`${i}: ${r.status} ${JSON.stringify(r.json)}`);
        return true;
      }),
    );
    assert.deepEqual(failures, []);
    assert.equal(sent.size, N, 'every send answered with its own id');

    await hub.kill();
    assert.equal(hub.proc.signalCode, 'SIGKILL');
    const again = await startHub(t, dataDir, dir);
    await assertAllStored(again, sent);
    const counts = tableCounts(dataDir);
    assert.equal(counts.messages, N);
    assert.equal(counts.deliveries, N);
    const hist = await http(again.url, 'GET', '/v1/history?agent=Agent-3&limit=1000', { token: again.adminToken });
    assert.equal(hist.status, 200);
    assert.equal(hist.json.messages.length, N / AGENTS.length);
  });

  it('stores a send with one Idempotency-Key once, across SIGKILL and restart', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await startHub(t, dataDir, dir);
    await registerAgents(hub.url, hub.adminToken, ['Agent-1']);
    const send = (h: HubProcess, body = 'Deploy v2.3.1 to staging') =>
      http(h.url, 'POST', '/v1/messages', { token: h.adminToken, body: { to: 'Agent-1', body, type: 'deployment' }, headers: { 'idempotency-key': 'deploy-2.3.1' } });

    const first = await send(hub);
    assert.equal(first.status, 201);
    assert.equal(first.json.duplicate, false);
    const id = first.json.message.id as string;
    // Retries racing each other (they may share one group commit) still answer the first id.
    const retries = await Promise.all(Array.from({ length: 8 }, () => send(hub)));
    for (const r of retries) {
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.message.id, id);
      assert.equal(r.json.duplicate, true);
    }
    const before = tableCounts(dataDir);
    assert.equal(before.messages, 1);

    await hub.kill();
    const again = await startHub(t, dataDir, dir);
    const afterRestart = await send(again);
    assert.equal(afterRestart.status, 200);
    assert.equal(afterRestart.json.message.id, id);
    assert.equal(afterRestart.json.duplicate, true);
    const reused = await send(again, 'Deploy v9.9.9 to production');
    assert.equal(reused.status, 409);
    assert.equal(reused.json.code, 'idempotency_conflict');
    assert.deepEqual(tableCounts(dataDir), before, 'retries and the refused reuse stored nothing');
  });

  it('on SIGTERM finishes in-flight sends, exits 0, and loses none that were answered', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await startHub(t, dataDir, dir);
    await registerAgents(hub.url, hub.adminToken, AGENTS);
    const sent = new Map<string, string>();
    const refusals: string[] = [];
    let stopAt = 0;
    let exit: Promise<number | null> | undefined;
    const MAX = 3000;
    // Twenty clients send until the hub stops answering; SIGTERM arrives after the first hundred.
    const load = pool(MAX, 20, async (i) => {
      const body = `in flight ${i}`;
      try {
        const r = await http(hub.url, 'POST', '/v1/messages', { token: hub.adminToken, body: { to: AGENTS[i % AGENTS.length], body }, timeoutMs: 10_000 });
        if (r.status === 201) sent.set(r.json.message.id, body);
        else refusals.push(`${r.status} ${r.json?.code ?? ''}`);
      } catch {
        return false; // connection refused or reset: the hub is gone
      }
      if (sent.size >= 100 && exit === undefined) {
        stopAt = Date.now();
        exit = hub.stop();
      }
      return exit === undefined || hub.proc.exitCode === null;
    });
    await within(60_000, 'the load', load);
    assert.ok(exit !== undefined, `SIGTERM was sent (${sent.size} sends answered, refusals: ${refusals.slice(0, 5).join('; ')})`);
    const code = await within(10_000, 'hub exit after SIGTERM', exit);
    assert.equal(code, 0, hub.output());
    assert.ok(Date.now() - stopAt < 10_000, 'exited within a few seconds');
    // While closing, the hub may refuse new requests as unavailable, nothing else.
    for (const r of refusals) assert.match(r, /^503/);

    const again = await startHub(t, dataDir, dir);
    await assertAllStored(again, sent);
    assert.ok(tableCounts(dataDir).messages >= sent.size);
  });

  it('wakes `inbox --wait` on a send, and on SIGTERM answers the waiting ones and exits 0', async (t) => {
    const dir = tempDir();
    const hub = await startHub(t, join(dir, '.swarm'), dir);
    const tokens = await registerAgents(hub.url, hub.adminToken, ['Agent-1', 'Agent-2']);
    const waitFor = (agent: string) => swarm(hub.url, ['inbox', '--wait', '60', '--json'], { token: tokens[agent] ?? '' });
    const woken = waitFor('Agent-1');
    const waiting = waitFor('Agent-2');
    // Both CLI processes are parked in their long-poll once the hub has seen them.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const roster = await http(hub.url, 'GET', '/v1/agents', { token: hub.adminToken });
      if (roster.json.agents.filter((a: any) => a.last_seen_at !== null).length >= 3) break;
      assert.ok(Date.now() < deadline, 'the long-polls reached the hub');
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = await http(hub.url, 'POST', '/v1/messages', { token: tokens['Agent-2'] ?? '', body: { to: 'Agent-1', body: 'wake up' } });
    assert.equal(sent.status, 201);
    const got = okJson(await within(15_000, 'the woken long-poll', woken));
    assert.deepEqual(
      got.items.map((i: any) => i.message.id),
      [sent.json.message.id],
    );

    const code = await within(10_000, 'hub exit after SIGTERM with a long-poll open', hub.stop());
    assert.equal(code, 0, hub.output());
    const left = okJson(await within(10_000, 'the long-poll cut short by shutdown', waiting));
    assert.deepEqual(left.items, []);
  });
});
