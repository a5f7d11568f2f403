// A real Prometheus (Debian's package, installed when missing) scrapes a real hub every second
// while the hub does a bit of everything: a few hundred sends, acknowledgements over HTTP and over a
// WebSocket, a stream closed, a delivery left unacknowledged until it is a dead letter, a task
// claimed, done and verified, a file delivery target pushed to. Then every metric name the alert
// rules and the dashboards use must return data through Prometheus's HTTP API, every recording rule
// too, and every rule must evaluate without error. No series is allowed to be missing: each one the
// rules use is produced by the load above.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireCommand } from '../support/debian.js';
import { freePort } from '../support/net.js';
import { spawnHub } from '../support/process.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { addAgent, http, openWs, send, sleep, until } from '../streams/clients.js';
import { RULES, rules, usedMetricNames } from './deploy-files.js';

async function promQuery(base: string, query: string): Promise<unknown[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5000) });
  const j = (await res.json()) as { status: string; data: { result: unknown[] }; error?: string };
  assert.equal(j.status, 'success', `${query}: ${j.error ?? ''}`);
  return j.data.result;
}

describe('Prometheus scraping a hub', () => {
  it('every metric the rules and dashboards use has data, and every rule evaluates', { timeout: 150_000 }, async (t) => {
    const prometheus = await requireCommand('prometheus', 'prometheus', 'the rules and dashboards are checked against a real Prometheus');
    const dir = tempDir();
    // Short leases and two attempts: one unacknowledged delivery is a dead letter within seconds.
    const hub = await spawnHub(join(dir, 'hub'), { env: { SWARM_VISIBILITY_SECONDS: '0.5', SWARM_MAX_ATTEMPTS: '2', SWARM_AGENT_RATE: '10000', SWARM_AGENT_BURST: '10000', SWARM_ADDRESS_RATE: '10000', SWARM_ADDRESS_BURST: '10000' } });
    t.after(() => hub.kill());
    // A second hub on PostgreSQL, for the series only that store has (its connection pool).
    const onPostgres = await spawnHub(join(dir, 'pg'), { env: { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: testSchema(t, 'swarm_prom') } });
    t.after(() => onPostgres.kill());
    const admin = hub.adminToken;
    const sender = await addAgent(hub.url, admin, 'Agent-S');
    const wsAgent = await addAgent(hub.url, admin, 'Agent-W');
    const deadAgent = await addAgent(hub.url, admin, 'Agent-D');
    const httpAgent = await addAgent(hub.url, admin, 'Agent-H');
    await addAgent(hub.url, admin, 'Agent-T');

    // A file delivery target for Agent-T: pushes, their latency, its breaker (closed: 0).
    const target = await http(hub.url, 'POST', '/v1/agents/Agent-T/targets', { token: admin, body: { kind: 'file', dir: join(dir, 'inbox-T') } });
    assert.equal(target.status, 201, target.body);

    // Prometheus, scraping every second and evaluating the rules of deploy/ every second.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const hubAddress = new URL(hub.url).host;
    mkdirSync(join(dir, 'tsdb'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${JSON.stringify(RULES)}\nscrape_configs:\n  - job_name: swarm\n    static_configs:\n      - targets: ['${hubAddress}', '${new URL(onPostgres.url).host}']\n`,
    );
    let promOut = '';
    const prom: ChildProcess = spawn(prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout?.on('data', (d: Buffer) => (promOut += d.toString()));
    prom.stderr?.on('data', (d: Buffer) => (promOut += d.toString()));
    const promExited = new Promise((resolve) => prom.once('exit', resolve));
    t.after(async () => {
      if (prom.exitCode === null && prom.signalCode === null) {
        prom.kill('SIGKILL');
        await promExited;
      }
    });
    await until('Prometheus ready', async () => (await fetch(`${base}/-/ready`).catch(() => null))?.ok === true, 30_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\n${promOut.slice(-2000)}`);
    });

    // Streams: Agent-W acknowledges over its WebSocket, a second one of its sockets is closed,
    // Agent-D's socket never acknowledges (redelivered once, then dead).
    const w = await openWs(t, hub.url, { token: wsAgent });
    const d = await openWs(t, hub.url, { token: deadAgent });
    const closing = await openWs(t, hub.url, { token: wsAgent });
    closing.ws.close();
    await send(hub.url, sender, { to: 'Agent-D', body: 'never acknowledged' });

    // A few hundred sends, twenty at a time, to the three other agents.
    const to = ['Agent-W', 'Agent-H', 'Agent-T'];
    for (let i = 0; i < 300; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => send(hub.url, sender, { to: to[(i + j) % 3], body: `load ${i + j}`, type: (i + j) % 2 === 0 ? 'text' : 'status' })));
    }
    const first = await w.nextOf('delivery');
    assert.deepEqual(await w.request({ type: 'ack', id: 'a1', ids: [first.message.id] }), { type: 'acked', id: 'a1', acked: [first.message.id] });
    const inbox = await http(hub.url, 'GET', '/v1/inbox?limit=10', { token: httpAgent });
    assert.equal(inbox.status, 200, inbox.body);
    const ids = inbox.json.items.map((i: any) => i.message.id as string);
    assert.ok(ids.length > 0, inbox.body.slice(0, 300));
    assert.equal((await http(hub.url, 'POST', '/v1/ack', { token: httpAgent, body: { ids } })).status, 200);
    await until('the dead letter', async () => (await http(hub.url, 'GET', '/v1/dlq', { token: deadAgent })).json.dead.length === 1, 15_000, 100);
    assert.ok(d.all.length >= 2, 'Agent-D got the delivery twice');

    // A task through its life: added, claimed, done, verified (points).
    const task = await http(hub.url, 'POST', '/v1/tasks', { token: admin, body: { title: 'scrape me', points: 5 } });
    assert.equal(task.status, 201, task.body);
    const tid = task.json.task.id as string;
    for (const [token, step] of [[wsAgent, 'claim'], [wsAgent, 'done'], [admin, 'verify']] as const) {
      const r = await http(hub.url, 'POST', `/v1/tasks/${tid}/${step}`, { token, body: {} });
      assert.equal(r.status, 200, `${step}: ${r.body}`);
    }

    // Every name used by a rule or a dashboard, and every recording rule, has data.
    const wanted = [...usedMetricNames(), ...rules().flatMap((r) => (r.record === undefined ? [] : [r.record]))];
    let missing: string[] = wanted;
    const deadline = Date.now() + 40_000;
    while (missing.length > 0 && Date.now() < deadline) {
      const still: string[] = [];
      for (const name of missing) if ((await promQuery(base, `{__name__=${JSON.stringify(name)}}`)).length === 0) still.push(name);
      missing = still;
      if (missing.length > 0) await sleep(1000);
    }
    assert.deepEqual(missing, [], 'series without data in Prometheus');
    assert.ok(wanted.length > 30, `${wanted.length} names`);

    // Every rule evaluated without an error (a typo in a function or a label would show here).
    const res = (await (await fetch(`${base}/api/v1/rules`, { signal: AbortSignal.timeout(5000) })).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const evaluated = res.data.groups.flatMap((g) => g.rules);
    assert.equal(evaluated.length, rules().length);
    assert.deepEqual(evaluated.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`), []);
    // Before the schema it runs on is dropped (t.after hooks run in the order they were added).
    await onPostgres.kill();
  });
});
