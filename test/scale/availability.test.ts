// Availability under failure (issue 11), with real processes: a private PostgreSQL cluster, three
// `swarm serve --role api` processes and one worker behind haproxy (round robin, /readyz checks).
// Senders send up to 500 messages/s through the balancer, each with an idempotency key and a budget
// of 6 attempts within 3 s, while an api process is SIGKILLed and restarted every few seconds, then
// every api process is restarted in turn with SIGTERM. Watchers on WebSocket and SSE, connected
// through the balancer, resume after each drop. Then PostgreSQL itself is restarted under load
// against one api process: the hub answers 503 with Retry-After, turns unready, and recovers alone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { type Balancer, ensureHaproxy, startHaproxy } from '../support/haproxy.js';
import { freePort } from '../support/net.js';
import { ROOT } from '../support/paths.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { type SendRecord, startLoad } from '../support/send-load.js';
import { tempDir } from '../support/temp.js';
import { sseWatcher, type Watcher, wsWatcher } from '../support/watchers.js';

interface Cluster {
  url: string;
  stop(): void;
  stopServer(mode: 'fast' | 'immediate'): Promise<void>;
  startServer(): Promise<void>;
}

const APIS = 3;
const KILLS = 10;
const RATE = 500;
const CLIENTS = 64;
const ATTEMPTS = 6;
const BUDGET_MS = 3000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function post(url: string, token: string, path: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  assert.ok(r.status < 300, `${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function tally(records: SendRecord[]): string {
  const failures = new Map<string, number>();
  for (const r of records) if (r.id === null) failures.set(r.failure ?? '?', (failures.get(r.failure ?? '?') ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(failures));
}

describe('availability under failure', () => {
  let db: Cluster;
  let sql: pg.Pool;
  let dir: string;
  let lb: Balancer;
  let env: Record<string, string>;
  let worker: HubProcess | undefined;
  const ports: number[] = [];
  const apis: HubProcess[] = [];
  const startApi = async (i: number): Promise<HubProcess> => (apis[i] = await spawnHub(join(dir, `api${i}`), { env, args: ['--role', 'api', '--port', String(ports[i])] }));
  const state = async (i: number): Promise<string> => (await lb.states()).get(`api${i}`) ?? '';
  const inRotation = (i: number, what: string): Promise<true> => until(`api${i} ${what}`, async () => ((await state(i)) === 'UP' ? true : undefined), 15_000);

  // Set up by the first test that runs: a failure (haproxy cannot be installed, say) fails each test
  // with its message, where a failing before() hook would only mark them cancelled.
  let setUp: Promise<void> | null = null;
  const cluster = (): Promise<void> => (setUp ??= start());
  const start = async (): Promise<void> => {
    await ensureHaproxy();
    // A cluster of its own (it is stopped and started below), durable as in production: a send
    // answered 2xx must survive even `pg_ctl stop -m immediate`.
    const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'postgres.mjs')).href)) as { startThrowawayPostgres(o: { durable: boolean; maxConnections: number }): Promise<Cluster> };
    db = await mod.startThrowawayPostgres({ durable: true, maxConnections: 200 });
    process.once('exit', () => db.stop());
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    sql.on('error', () => undefined);
    dir = tempDir('swarm-avail-');
    env = {
      SWARM_DATABASE: db.url,
      SWARM_AGENT_RATE: '0',
      SWARM_VISIBILITY_SECONDS: '5',
      SWARM_MAX_ATTEMPTS: '1000',
      SWARM_HEARTBEAT_SECONDS: '5',
      SWARM_GRACE_SECONDS: '8',
      // Out of haproxy's rotation (2 checks 100-200 ms apart) before the listener closes.
      SWARM_DRAIN_SECONDS: '1',
      SWARM_POOL_SIZE: '8',
    };
    for (let i = 0; i < APIS; i++) ports.push(await freePort());
    await startApi(0); // migrates; the others find the schema current
    await Promise.all([startApi(1), startApi(2)]);
    worker = await spawnHub(join(dir, 'worker'), { env, args: ['--role', 'worker', '--port', '0'] });
    lb = await startHaproxy(dir, ports.map((port, i) => ({ name: `api${i}`, port })));
    for (let i = 0; i < APIS; i++) await inRotation(i, 'in rotation');
  };

  after(async () => {
    await lb?.stop();
    await Promise.all([...apis, worker].map((p) => p?.kill()));
    await sql?.end();
    db?.stop();
  });

  it('through haproxy: SIGKILLs and SIGTERM restarts lose no answered send, store none twice, and every watcher gets every message', { timeout: 150_000 }, async (t) => {
    await cluster();
    const admin = apis[0]!.adminToken;
    const token = async (id: string): Promise<string> => (await post(lb.url, admin, '/v1/agents', { id })).token as string;
    const senders = await Promise.all(['Sender-1', 'Sender-2', 'Sender-3', 'Sender-4'].map(async (id) => ({ id, token: await token(id) })));
    const watchers: Watcher[] = [
      await wsWatcher(lb.url, 'Watcher-1', await token('Watcher-1')),
      await wsWatcher(lb.url, 'Watcher-2', await token('Watcher-2')),
      await sseWatcher(lb.url, 'Watcher-3', await token('Watcher-3')),
    ];
    t.after(() => watchers.forEach((w) => w.close()));

    const load = startLoad({ url: lb.url, senders, recipients: watchers.map((w) => w.agent), perSecond: RATE, clients: CLIENTS, durationMs: 90_000, attempts: ATTEMPTS, budgetMs: BUDGET_MS, keyPrefix: 'avail' });
    t.after(() => load.stop());
    const started = Date.now();
    await sleep(2000);

    // SIGKILL one api process at a time, round robin; it comes back on the same port.
    const downMs: number[] = [];
    const events: { at: number; kind: 'SIGKILL' | 'SIGTERM' }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const i = k % APIS;
      events.push({ at: Date.now(), kind: 'SIGKILL' });
      await apis[i]!.kill();
      const killed = Date.now();
      await until(`api${i} out of rotation`, async () => ((await state(i)).startsWith('DOWN') ? true : undefined), 5000, 20);
      downMs.push(Date.now() - killed);
      await sleep(300);
      await startApi(i);
      await inRotation(i, 'back in rotation');
      await sleep(700);
    }
    // Then a rolling restart: each api process in turn gets SIGTERM and must drain and exit 0.
    const exits: (number | null)[] = [];
    for (let i = 0; i < APIS; i++) {
      events.push({ at: Date.now(), kind: 'SIGTERM' });
      exits.push(await apis[i]!.stop());
      await startApi(i);
      await inRotation(i, 'back after SIGTERM');
      await sleep(700);
    }
    await sleep(2000);
    const records = await load.stop();
    const loadSeconds = (Date.now() - started) / 1000;

    const answered = records.filter((r) => r.id !== null);
    const ratio = answered.length / records.length;
    const ids = answered.map((r) => r.id!);
    const stored = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE id = ANY($1)', [ids]);
    const lost = answered.length - (stored.rows[0]?.n ?? 0);
    const keys = await sql.query<{ rows: number; twice: number }>(
      "SELECT count(*)::int AS rows, (count(*) - count(DISTINCT (sender, idempotency_key)))::int AS twice FROM messages WHERE idempotency_key LIKE 'avail-%'",
    );

    // Every answered send reaches its watcher (an unacknowledged delivery comes back after 5 s).
    const missing = (w: Watcher): string[] => answered.filter((r) => r.to === w.agent && !w.received.has(r.id!)).map((r) => r.id!);
    const drainStart = Date.now();
    await until('watchers to receive every answered message', () => (watchers.every((w) => missing(w).length === 0) ? true : undefined), 30_000, 100).catch(() => undefined);
    const drainMs = Date.now() - drainStart;

    const ms = answered.map((r) => r.ms);
    t.diagnostic(`load: ${records.length} messages in ${loadSeconds.toFixed(1)} s (${(records.length / loadSeconds).toFixed(0)}/s of ${RATE}/s asked, ${CLIENTS} clients); 2xx within ${ATTEMPTS} attempts/${BUDGET_MS} ms: ${answered.length} (${(ratio * 100).toFixed(3)} %); p50 ${percentile(ms, 50)} ms, p99 ${percentile(ms, 99)} ms, max ${Math.max(...ms)} ms`);
    t.diagnostic(`attempts: ${JSON.stringify(Object.fromEntries(load.outcomes))}; messages retried: ${records.filter((r) => r.attempts > 1).length}; unanswered: ${tally(records)}`);
    // Which failed attempts followed which kind of stop (each one is put down to the last stop before it).
    const after = { SIGKILL: new Map<string, number>(), SIGTERM: new Map<string, number>() };
    for (const f of load.failedAttempts) {
      const cause = events.filter((e) => e.at <= f.at).at(-1);
      if (cause !== undefined) after[cause.kind].set(f.what, (after[cause.kind].get(f.what) ?? 0) + 1);
    }
    t.diagnostic(`failed attempts after a SIGKILL: ${JSON.stringify(Object.fromEntries(after.SIGKILL))}; after a SIGTERM: ${JSON.stringify(Object.fromEntries(after.SIGTERM))}`);
    t.diagnostic(`kills: ${downMs.length} SIGKILL (out of haproxy's rotation after ${Math.min(...downMs)}–${Math.max(...downMs)} ms), ${exits.length} SIGTERM (exit codes ${exits.join(', ')})`);
    t.diagnostic(`database: answered but missing ${lost}; rows for the ${records.length} keys ${keys.rows[0]?.rows}; stored twice ${keys.rows[0]?.twice}`);
    for (const w of watchers) {
      const mine = answered.filter((r) => r.to === w.agent).length;
      t.diagnostic(`${w.agent} (${w.kind}): ${mine - missing(w).length}/${mine} answered messages received, ${w.deliveries} deliveries, ${w.reconnects} reconnects${w.error ? `, ended: ${w.error.message}` : ''}`);
    }
    t.diagnostic(`watchers had everything ${drainMs} ms after the load ended`);

    assert.ok(records.length / loadSeconds >= 100, `too little load to mean anything: ${(records.length / loadSeconds).toFixed(0)} messages/s`);
    assert.equal(downMs.length, KILLS);
    assert.ok(ratio >= 0.999, `only ${(ratio * 100).toFixed(3)} % answered 2xx within the budget`);
    assert.equal(lost, 0, 'sends answered 2xx but not in the database');
    assert.equal(keys.rows[0]?.twice, 0, 'a (sender, idempotency key) stored twice');
    assert.deepEqual(exits, [0, 0, 0], 'SIGTERM: every api process drains and exits 0');
    for (const w of watchers) {
      assert.equal(w.error, null, `${w.agent} gave up`);
      assert.deepEqual(missing(w), [], `${w.agent} never received these answered messages`);
    }
  });

  it('PostgreSQL restarted under load: 503 store_unavailable with Retry-After (never 500), /readyz unready and back, recovery without a hub restart', { timeout: 120_000 }, async (t) => {
    await cluster();
    const hub = apis[0]!;
    const pid = hub.proc.pid;
    const sender = { id: 'Outage-Sender', token: (await post(hub.url, hub.adminToken, '/v1/agents', { id: 'Outage-Sender' })).token as string };
    await post(hub.url, hub.adminToken, '/v1/agents', { id: 'Outage-Receiver' });

    const answers: { status: number; at: number; retryAfter: string | undefined; type: string | undefined; code: string | undefined }[] = [];
    const load = startLoad({
      url: hub.url,
      senders: [sender],
      recipients: ['Outage-Receiver'],
      perSecond: 100,
      clients: 16,
      durationMs: 60_000,
      attempts: 1,
      budgetMs: 10_000,
      keyPrefix: 'outage',
      onAnswer: (a) => {
        let code: string | undefined;
        try {
          code = (JSON.parse(a.body) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        answers.push({ status: a.status, at: a.at, retryAfter: a.headers['retry-after'] as string | undefined, type: a.headers['content-type'] as string | undefined, code });
      },
    });
    t.after(() => load.stop());
    const ready: { at: number; status: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        ready.push({ at: Date.now(), status: r?.status ?? 0 });
        await r?.text();
        await sleep(100);
      }
    })();

    const cycles: { mode: string; downMs: number; recoveredMs: number; unready: boolean }[] = [];
    for (const mode of ['fast', 'immediate'] as const) {
      await sleep(1500);
      const stopping = Date.now();
      await db.stopServer(mode);
      await sleep(2500);
      await db.startServer();
      const up = Date.now();
      const recovered = await until(`a send answered 2xx after PostgreSQL came back (${mode})`, () => answers.find((a) => a.at > up && a.status === 201)?.at, 20_000, 50);
      await until('/readyz ready again', () => (ready.some((r) => r.at > up && r.status === 200) ? true : undefined), 20_000, 50);
      cycles.push({ mode, downMs: up - stopping, recoveredMs: recovered - up, unready: ready.some((r) => r.at > stopping && r.at < up && r.status === 503) });
    }
    await sleep(1000);
    const records = await load.stop();
    polling = false;
    await poller;

    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    const unavailable = answers.filter((a) => a.status === 503);
    const answered = records.filter((r) => r.id !== null).map((r) => r.id!);
    const stored = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE id = ANY($1)', [answered]);
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(byStatus))} of ${records.length} sends; unanswered: ${tally(records.filter((r) => r.failure?.startsWith('network') ?? false))}`);
    t.diagnostic(`503s: ${unavailable.length}, with Retry-After ${unavailable.filter((a) => a.retryAfter !== undefined).length} (values ${[...new Set(unavailable.map((a) => a.retryAfter))].join(', ')}), codes ${[...new Set(unavailable.map((a) => a.code))].join(', ')}`);
    for (const c of cycles) t.diagnostic(`pg_ctl stop -m ${c.mode}: down ${c.downMs} ms, /readyz 503 meanwhile: ${c.unready}, first 2xx ${c.recoveredMs} ms after the start`);
    t.diagnostic(`answered 2xx ${answered.length}, in the database ${stored.rows[0]?.n}; hub pid ${pid} → ${hub.proc.pid}, exited: ${hub.proc.exitCode ?? hub.proc.signalCode ?? 'no'}`);

    assert.deepEqual([...byStatus.keys()].filter((s) => s !== 201 && s !== 503), [], 'only 201 and 503 answers while PostgreSQL restarts');
    assert.ok(unavailable.length > 0, 'some sends met the outage');
    for (const a of unavailable) {
      assert.equal(a.code, 'store_unavailable');
      assert.equal(a.type, 'application/problem+json');
      assert.equal(a.retryAfter, '1');
    }
    for (const c of cycles) assert.ok(c.unready, `/readyz stayed ready while PostgreSQL was stopped (${c.mode})`);
    assert.equal(hub.proc.exitCode, null, 'the hub process is still running');
    assert.equal(hub.proc.signalCode, null, 'the hub process is still running');
    assert.equal(stored.rows[0]?.n, answered.length, 'every send answered 2xx is in the database');
    for (const p of [...apis, worker!]) assert.equal(p.proc.exitCode, null, `a hub process exited during the outage:\n${p.output().slice(-2000)}`);
  });
});
