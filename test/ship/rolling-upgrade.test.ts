// A rolling upgrade on PostgreSQL (issue 16), with real processes: the previous release
// (deploy/upgrade-from.json, built from git by test/support/old-version.ts) runs three api processes
// and a worker on a schema of its own, behind haproxy (round robin, /readyz checks, and retries of
// 502/503/504 on another process, as docs/deployment.md "Behind a load balancer" says). Clients send
// through the balancer (Idempotency-Key; retried on 502/503/504 and network errors) and watch on
// WebSocket and SSE streams that reconnect. Then this checkout's version starts beside it (migrating
// the schema, if it has anything to migrate), the old processes are checked to still serve, and
// they are stopped one by one with SIGTERM. Nothing answered may be lost, no 5xx may reach a client,
// and each old process must drain and exit 0 within its grace period.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureHaproxy, startHaproxy } from '../support/haproxy.js';
import { freePort } from '../support/net.js';
import { oldVersion } from '../support/old-version.js';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { adminTokenOf, type HubProcess, spawnHub } from '../support/process.js';
import { startLoad } from '../support/send-load.js';
import { tempDir } from '../support/temp.js';
import { sseWatcher, type Watcher, wsWatcher } from '../support/watchers.js';
import { addAgent, sleep, until } from '../streams/clients.js';
import { ledger, probe, type ProbeResult } from './upgrade-probe.js';

const APIS = 3;
const RATE = 150;
const CLIENTS = 16;
const ATTEMPTS = 6;
const BUDGET_MS = 5000;
const GRACE_SECONDS = 8;
/** What haproxy tries again on another process: what docs/deployment.md says a balancer should. */
const RETRY_ON = 'conn-failure empty-response response-timeout 502 503 504';

describe('rolling upgrade on PostgreSQL', () => {
  it('old and new side by side, the old stopped one by one under load: nothing lost, no 5xx, each old process exits 0 within its grace', { timeout: 15 * 60_000 }, async (t) => {
    const started = Date.now();
    // Fails (never skips) when the old version cannot be had: the message says what is missing.
    const old = oldVersion();
    t.diagnostic(`old version ${old.tag} = ${old.commit.slice(0, 12)} (found by ${old.found}); dependencies ${old.deps}; ${old.built ? 'built' : 'cached build'} in ${(old.ms / 1000).toFixed(1)} s (${old.dir})`);
    await ensureHaproxy();

    const dir = tempDir('swarm-upgrade-');
    const olds = new Map<string, HubProcess>();
    const news = new Map<string, HubProcess>();
    const watchers: Watcher[] = [];
    // Before the schema's own hook (added by testSchema): hooks run in order, processes first.
    t.after(async () => {
      for (const w of watchers) w.close();
      await Promise.all([...olds.values(), ...news.values()].map((p) => p.kill()));
    });
    const schema = testSchema(t, 'swarm_upgrade');
    const env = {
      SWARM_DATABASE: testDatabaseUrl(),
      SWARM_DB_SCHEMA: schema,
      SWARM_AGENT_RATE: '0',
      SWARM_ADDRESS_RATE: '0',
      SWARM_VISIBILITY_SECONDS: '5',
      SWARM_MAX_ATTEMPTS: '1000',
      SWARM_HEARTBEAT_SECONDS: '5',
      SWARM_GRACE_SECONDS: String(GRACE_SECONDS),
      // Out of haproxy's rotation (2 checks 100-200 ms apart) before the listener closes.
      SWARM_DRAIN_SECONDS: '1',
      SWARM_POOL_SIZE: '4',
    };
    const ports = { old: [] as number[], new: [] as number[] };
    for (let i = 0; i < APIS; i++) ports.old.push(await freePort());
    for (let i = 0; i < APIS; i++) ports.new.push(await freePort());
    const spawn = async (version: 'old' | 'new', name: string, args: string[]): Promise<HubProcess> => {
      const p = await spawnHub(join(dir, name), { env, args, ...(version === 'old' ? { bin: old.bin } : {}) });
      (version === 'old' ? olds : news).set(name, p);
      return p;
    };

    // The old version first: it creates the schema (api0 migrates and mints the admin token).
    await spawn('old', 'old-api0', ['--role', 'api', '--port', String(ports.old[0])]);
    await Promise.all([1, 2].map((i) => spawn('old', `old-api${i}`, ['--role', 'api', '--port', String(ports.old[i])])));
    await spawn('old', 'old-worker', ['--role', 'worker', '--port', '0']);
    const oldSchema = await ledger(schema);
    // Both versions' api processes are the balancer's servers from the start, as a Service's
    // endpoints are: the new ones join the rotation when their /readyz answers.
    const servers = [...ports.old.map((port, i) => ({ name: `old${i}`, port })), ...ports.new.map((port, i) => ({ name: `new${i}`, port }))];
    const lb = await startHaproxy(dir, servers, { retryOn: RETRY_ON });
    t.after(() => lb.stop());
    const state = async (name: string): Promise<string> => (await lb.states()).get(name) ?? '';
    const inRotation = async (name: string, up: boolean): Promise<void> => {
      let last = '';
      await until(`${name} ${up ? 'in' : 'out of'} rotation`, async () => ((last = await state(name)).startsWith(up ? 'UP' : 'DOWN') ? true : undefined), 20_000, 50).catch((e: Error) => {
        throw new Error(`${e.message} (haproxy says ${JSON.stringify(last)})`);
      });
    };
    for (let i = 0; i < APIS; i++) await inRotation(`old${i}`, true);
    for (let i = 0; i < APIS; i++) await inRotation(`new${i}`, false);

    const admin = adminTokenOf([...olds.values()]);
    const agent = async (id: string): Promise<{ id: string; token: string }> => ({ id, token: await addAgent(lb.url, admin, id) });
    const senders = await Promise.all(['Sender-1', 'Sender-2', 'Sender-3', 'Sender-4'].map(agent));
    const [probeFrom, probeTo] = await Promise.all(['Probe-Sender', 'Probe-Receiver'].map(agent));
    watchers.push(await wsWatcher(lb.url, 'Watcher-1', (await agent('Watcher-1')).token));
    watchers.push(await wsWatcher(lb.url, 'Watcher-2', (await agent('Watcher-2')).token));
    watchers.push(await sseWatcher(lb.url, 'Watcher-3', (await agent('Watcher-3')).token));

    const load = startLoad({ url: lb.url, senders, recipients: watchers.map((w) => w.agent), perSecond: RATE, clients: CLIENTS, durationMs: 5 * 60_000, attempts: ATTEMPTS, budgetMs: BUDGET_MS, keyPrefix: 'upgrade' });
    t.after(() => load.stop());
    const loadStarted = Date.now();
    await sleep(2000);

    // The new version joins: its first process migrates (when it has migrations the old lacks).
    await spawn('new', 'new-api0', ['--role', 'api', '--port', String(ports.new[0])]);
    const newSchema = await ledger(schema);
    await spawn('new', 'new-worker', ['--role', 'worker', '--port', '0']);
    // The old processes on the schema the new version left: still ready, still sending and reading.
    const probes: ProbeResult[] = [];
    for (let i = 0; i < APIS; i++) probes.push(await probe(olds.get(`old-api${i}`)!.url, probeFrom!, probeTo!, `probe-old${i}`));
    await Promise.all([1, 2].map((i) => spawn('new', `new-api${i}`, ['--role', 'api', '--port', String(ports.new[i])])));
    for (let i = 0; i < APIS; i++) await inRotation(`new${i}`, true);
    await sleep(2000);

    // The old api processes stopped one by one (as a rollout replaces pods), then the old worker.
    const stops: { name: string; code: number | null; ms: number }[] = [];
    const stopOld = async (name: string): Promise<void> => {
      const at = Date.now();
      stops.push({ name, code: await olds.get(name)!.stop(), ms: Date.now() - at });
    };
    for (let i = 0; i < APIS; i++) {
      await stopOld(`old-api${i}`);
      await inRotation(`old${i}`, false);
      await sleep(1500);
    }
    await stopOld('old-worker');
    await sleep(2000);
    const records = await load.stop();
    const loadSeconds = (Date.now() - loadStarted) / 1000;

    const answered = records.filter((r) => r.id !== null);
    const stored = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".messages WHERE id = ANY($1)`, [answered.map((r) => r.id)]);
    const keys = await query<{ rows: number; twice: number }>(
      `SELECT count(*)::int AS rows, (count(*) - count(DISTINCT (sender, idempotency_key)))::int AS twice FROM "${schema}".messages WHERE idempotency_key LIKE 'upgrade-%'`,
    );
    const missing = (w: Watcher): string[] => answered.filter((r) => r.to === w.agent && !w.received.has(r.id!)).map((r) => r.id!);
    const drainStart = Date.now();
    await until('every watcher to receive every answered send', () => (watchers.every((w) => missing(w).length === 0) ? true : undefined), 30_000, 100).catch(() => undefined);
    const drainMs = Date.now() - drainStart;
    const outcomes = Object.fromEntries(load.outcomes);
    const fiveXx = Object.entries(outcomes).filter(([k]) => /^5\d\d$/.test(k));
    const lbStats = await lb.backendStats();
    const duplicates = watchers.reduce((n, w) => n + (w.deliveries - w.received.size), 0);

    t.diagnostic(`schema: old version made ${oldSchema.at(-1)} (${oldSchema.length} migrations); the new version ${newSchema.length > oldSchema.length ? `applied ${newSchema.slice(oldSchema.length).join(', ')}` : 'had none to apply: this run proves the mechanism, not a migration'}`);
    for (const [i, p] of probes.entries()) t.diagnostic(`old-api${i} after the new version started: ${p.detail}`);
    t.diagnostic(`load: ${records.length} sends in ${loadSeconds.toFixed(1)} s (${RATE}/s asked, ${CLIENTS} clients), answered 2xx ${answered.length}; retried by the client ${records.filter((r) => r.attempts > 1).length}; attempts ${JSON.stringify(outcomes)}`);
    t.diagnostic(`haproxy: retries ${lbStats.wretr}, redispatches ${lbStats.wredis}, 5xx from servers ${lbStats.hrsp_5xx}, connection errors ${lbStats.econ}, response errors ${lbStats.eresp}`);
    t.diagnostic(`database: answered but missing ${answered.length - (stored[0]?.n ?? 0)}; (sender, key) stored twice ${keys[0]?.twice}`);
    for (const w of watchers) {
      const mine = answered.filter((r) => r.to === w.agent).length;
      t.diagnostic(`${w.agent} (${w.kind}): ${mine - missing(w).length}/${mine} received, ${w.deliveries - w.received.size} repeated deliveries (at-least-once), ${w.reconnects} reconnects${w.error ? `, ended: ${w.error.message}` : ''}`);
    }
    t.diagnostic(`stops: ${stops.map((s) => `${s.name} exit ${s.code} in ${s.ms} ms`).join('; ')}; watchers complete ${drainMs} ms after the load; whole test ${((Date.now() - started) / 1000).toFixed(1)} s`);

    assert.ok(answered.length >= RATE * 10, `too little load to mean anything: ${answered.length} sends answered`);
    // Releases up to v0.1.0-pre-ship answered /readyz 503 on any schema newer than they knew: upgrading
    // from one of them across a migration takes every old process out of rotation at once.
    const staleReadiness = ' (the old release turns unready on a newer schema: upgrade from a release with the fixed Hub.readiness, deploy/upgrade-from.json)';
    for (const [i, p] of probes.entries()) assert.ok(p.ok, `old-api${i} no longer serves once the new version started: ${p.detail}${p.readyz === 503 ? staleReadiness : ''}`);
    assert.deepEqual(fiveXx, [], 'a 5xx reached a client through the balancer (with its retries)');
    assert.deepEqual(Object.keys(outcomes).filter((k) => k.startsWith('network:')), [], 'a connection dropped under a client (the balancer closed it)');
    assert.equal(answered.length, records.length, `sends never answered 2xx: ${records.filter((r) => r.id === null).map((r) => r.failure).slice(0, 5).join('; ')}`);
    assert.equal(stored[0]?.n, answered.length, 'sends answered 2xx but not in the database');
    assert.equal(keys[0]?.twice, 0, 'a (sender, idempotency key) stored twice');
    for (const w of watchers) {
      assert.equal(w.error, null, `${w.agent} gave up`);
      assert.deepEqual(missing(w), [], `${w.agent} never received these answered sends`);
    }
    for (const s of stops) {
      assert.equal(s.code, 0, `${s.name} exited ${s.code} on SIGTERM:\n${olds.get(s.name)?.output().slice(-2000)}`);
      assert.ok(s.ms < GRACE_SECONDS * 1000, `${s.name} took ${s.ms} ms to exit, past its ${GRACE_SECONDS} s grace`);
    }
    t.diagnostic(`duplicates in all: ${duplicates}`);
  });
});
