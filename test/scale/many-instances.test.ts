// Issue 11, "Must show: many instances": 24 `swarm serve` processes (14 api, 4 config, 6 worker)
// on one PostgreSQL of this test's own, their pools going through PgBouncer in transaction mode
// (store.prepare off) and their LISTEN connections straight to the server (store.sessionDatabase).
// All come up ready; a message sent through any api process reaches a watcher (WebSocket or SSE) on
// any other; a token revoked through one process is refused by every api process within the
// directory's stated bound; and the server's connections stay within the budget of
// docs/deployment.md: the bouncer's pool plus one LISTEN connection per process and one sweep-lock
// connection per worker, whatever the
// processes' own pools add up to. The figures are printed for the capacity model.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { HubError } from '../../src/errors.js';
import { STALE_BOUND_MS } from '../../src/store/postgres/directory.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { connections, cpuSeconds, type Fleet, type Role, sampleConnections, startFleet } from '../support/fleet.js';
import { freePort } from '../support/net.js';
import { startPgBouncer } from '../support/pgbouncer.js';
import { procUsage } from '../support/proc.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { addAgent, http, send, sleep, SseClient, until } from '../streams/clients.js';

const ROLES: Role[] = [...Array<Role>(14).fill('api'), ...Array<Role>(4).fill('config'), ...Array<Role>(6).fill('worker')];
const PROCESS_POOL = 2;
const BOUNCER_POOL = 10;
const SCHEMA = 'swarm_many';

const report: string[] = [];
const note = (line: string): void => void report.push(line);

const ms = (x: number): string => `${x.toFixed(0)} ms`;

describe('24 hub processes behind PgBouncer in transaction mode', { timeout: 150_000 }, () => {
  let fleet: Fleet;
  const started = performance.now();

  before(async () => {
    fleet = await startFleet({ roles: ROLES, processPool: PROCESS_POOL, bouncerPool: BOUNCER_POOL, wave: 6, schema: SCHEMA });
    note(`start: ${ROLES.length} processes listening in ${ms(fleet.startMs)} (waves of 6)`);
  });

  after(async () => {
    const codes = (await fleet?.stop()) ?? [];
    note(`stop: exit codes ${[...new Set(codes)].join(', ')}; whole file ${ms(performance.now() - started)}`);
    process.stderr.write(`\nmany-instances figures:\n  ${report.join('\n  ')}\n`);
  });

  it('every process is ready (/readyz) through the bouncer', async () => {
    const ready = await Promise.all(fleet.procs.map(async ({ hub }) => http(hub.url, 'GET', '/readyz')));
    assert.deepEqual(
      ready.map((r, i) => `${fleet.procs[i]?.role} ${r.status}`),
      fleet.procs.map((p) => `${p.role} 200`),
    );
    const s = await connections(fleet.observer);
    assert.equal(s.listen, ROLES.length, 'one LISTEN connection per process, straight to the server');
  });

  it('a message sent through any api process reaches a watcher on any other, over WebSocket and SSE', async (t) => {
    const { apis, admin } = fleet;
    const a0 = apis[0] as HubProcess;
    const senderToken = await addAgent(a0.url, admin, 'Sender');
    const got = new Map<string, string[]>();
    const sse: SseClient[] = [];
    for (let k = 0; k < apis.length; k++) {
      const agent = `Watcher-${k}`;
      const token = await addAgent(a0.url, admin, agent);
      got.set(agent, []);
      const url = (apis[k] as HubProcess).url;
      if (k % 2 === 0) {
        const s = new HubStream({ baseUrl: url, token, prefetch: 100, reconnect: false });
        await s.connect();
        t.after(() => s.close());
        void (async () => {
          for await (const ev of s) {
            if (ev.type !== 'delivery') continue;
            got.get(agent)?.push(ev.message.id);
            await s.ack([ev.message.id]).catch(() => undefined);
          }
        })();
      } else {
        const c = await SseClient.open(t, url, { token });
        await c.next('ready');
        sse[k] = c;
      }
    }
    // Watcher k is on api process k; its message goes through process k + 5, and arrives before the next is sent.
    const took: number[] = [];
    for (let k = 0; k < apis.length; k++) {
      const agent = `Watcher-${k}`;
      const t0 = performance.now();
      const id = await send((apis[(k + 5) % apis.length] as HubProcess).url, senderToken, { to: agent, body: `from process ${(k + 5) % apis.length} to process ${k}` });
      if (k % 2 === 0) {
        await until(`${agent} receives ${id} over WebSocket`, () => got.get(agent)?.includes(id), 10_000, 2);
      } else {
        const ev = await (sse[k] as SseClient).next('delivery', 10_000);
        assert.equal(ev.data.message.id, id, `${agent} got its message over SSE`);
      }
      took.push(performance.now() - t0);
    }
    took.sort((x, y) => x - y);
    note(`delivery across processes: ${apis.length} (sender process, watcher process) pairs, 7 WebSocket + 7 SSE, send to receipt median ${ms(took[7] ?? NaN)}, slowest ${ms(took.at(-1) ?? NaN)}`);
  });

  it(`a revoked token is refused (401) by every api process within ${STALE_BOUND_MS} ms`, async () => {
    const { apis, admin } = fleet;
    const a0 = apis[0] as HubProcess;
    await addAgent(a0.url, admin, 'Revoked');
    const worst: number[] = [];
    let stale = 0;
    for (let round = 0; round < 3; round++) {
      const created = await http(a0.url, 'POST', '/v1/tokens', { token: admin, body: { agent: 'Revoked' } });
      assert.equal(created.status, 201, created.body);
      const token = created.json.token as string;
      // Every process has seen the token (and keeps it in its directory cache).
      for (const p of apis) assert.equal((await http(p.url, 'GET', '/v1/whoami', { token })).status, 200);
      const via = apis[(round * 5 + 3) % apis.length] as HubProcess;
      const revoked = await http(via.url, 'DELETE', `/v1/tokens/${created.json.info.id as string}`, { token: admin });
      assert.equal(revoked.status, 200, revoked.body);
      const t0 = performance.now();
      const refusedAfter = await Promise.all(
        apis.map(async (p) => {
          for (;;) {
            const status = (await http(p.url, 'GET', '/v1/whoami', { token })).status;
            const waited = performance.now() - t0;
            if (status === 401) return waited;
            assert.equal(status, 200);
            stale += 1;
            assert.ok(waited < STALE_BOUND_MS, `${p.url} still accepts the revoked token after ${ms(waited)} (bound ${STALE_BOUND_MS} ms)`);
            await sleep(5);
          }
        }),
      );
      worst.push(Math.max(...refusedAfter));
    }
    note(`revocation: refused by all ${apis.length} api processes after at most ${worst.map(ms).join(', ')} (3 rounds; bound ${STALE_BOUND_MS} ms), measured from the revocation's answer to the 401's; accepted ${stale} times after it in all`);
  });

  it('settings, tasks and sweeps work through the bouncer', async () => {
    const { apis, admin, procs, observer } = fleet;
    const a0 = apis[0] as HubProcess;
    // A shared setting changed through a config process (under a table lock) applies in every api process.
    const config = procs.find((p) => p.role === 'config')?.hub as HubProcess;
    const put = await http(config.url, 'PUT', '/v1/config/delivery.maxAttempts', { token: admin, body: { value: 7 } });
    assert.equal(put.status, 200, put.body);
    await until(
      'every api process applies delivery.maxAttempts = 7',
      async () => (await Promise.all(apis.map(async (p) => (await http(p.url, 'GET', '/v1/config', { token: admin })).json.settings.find((x: any) => x.key === 'delivery.maxAttempts')?.value))).every((v) => v === 7),
      5000,
    );
    // Agents racing `task next` through different processes never get the same task.
    const captain = await addAgent(a0.url, admin, 'Captain', 'captain');
    for (let i = 0; i < 24; i++) assert.equal((await http((apis[i % apis.length] as HubProcess).url, 'POST', '/v1/tasks', { token: captain, body: { title: `task ${i}`, points: 10 } })).status, 201);
    const claimers = await Promise.all(Array.from({ length: 6 }, (_, i) => addAgent(a0.url, admin, `Claimer-${i}`)));
    const claimed: string[] = [];
    await Promise.all(
      claimers.map(async (token, i) => {
        for (;;) {
          const r = await http((apis[(i * 2) % apis.length] as HubProcess).url, 'POST', '/v1/tasks/next', { token });
          assert.equal(r.status, 200, r.body);
          if (r.json.task === null) return;
          claimed.push(r.json.task.id as string);
        }
      }),
    );
    assert.equal(new Set(claimed).size, 24, 'every task claimed once');
    assert.equal(claimed.length, 24);
    // A message past its expiry is swept by one of the workers (api and config processes do not sweep).
    await addAgent(a0.url, admin, 'Away');
    const id = await send(a0.url, admin, { to: 'Away', body: 'too late', expires_at: new Date(Date.now() + 1000).toISOString() });
    await until(
      'a worker sweeps the expired delivery',
      async () => (await observer.query(`SELECT d.state FROM "${SCHEMA}".deliveries d JOIN "${SCHEMA}".messages m ON m.seq = d.message_seq WHERE m.id = $1`, [id])).rows[0]?.state === 'expired',
      6000,
      100,
    );
  });

  it('an idle fleet: what its polls cost the bouncer and the processes', async () => {
    const { bouncer, procs } = fleet;
    const xacts = async (): Promise<number> => Number((await bouncer.admin<Record<string, string>>('SHOW STATS')).find((r) => r.database === fleet.database)?.total_xact_count);
    const windowS = 3;
    const [x0, c0] = [await xacts(), cpuSeconds(fleet)];
    await sleep(windowS * 1000);
    const [x1, c1] = [await xacts(), cpuSeconds(fleet)];
    const perProcess = (x1 - x0) / windowS / procs.length;
    const hubs = ((c1.hubs - c0.hubs) / windowS) * 100;
    note(
      `idle: ${((x1 - x0) / windowS).toFixed(0)} transactions/s through the bouncer (${perProcess.toFixed(1)} per process: directory version every 250 ms, settings every 2 s, …); ` +
        `hub CPU ${hubs.toFixed(1)} % of a core for all ${procs.length} (${(hubs / procs.length).toFixed(2)} % each), pgbouncer ${(((c1.bouncer - c0.bouncer) / windowS) * 100).toFixed(1)} %`,
    );
    assert.ok(perProcess < 10, `an idle process makes ${perProcess.toFixed(1)} transactions/s`);
  });

  it('the server connections stay within the budget: the bouncer pool, one LISTEN per process, one lock per worker', async (t) => {
    const { apis, admin, bouncer, observer } = fleet;
    const a0 = apis[0] as HubProcess;
    const sink = await addAgent(a0.url, admin, 'Sink');
    const sinkStreams = await Promise.all(
      apis.slice(0, 4).map(async (p) => {
        const s = new HubStream({ baseUrl: p.url, token: sink, prefetch: 500, reconnect: false });
        await s.connect();
        t.after(() => s.close());
        void (async () => {
          for await (const ev of s) if (ev.type === 'delivery') await s.ack([ev.message.id]).catch(() => undefined);
        })();
        return s;
      }),
    );
    assert.equal(sinkStreams.length, 4);
    const sender = await addAgent(a0.url, admin, 'Loader');
    const watch = sampleConnections(observer);
    const cpu0 = cpuSeconds(fleet);
    const t0 = performance.now();
    // Load through every api process at once (4 senders each, 3 s): every pool is busy together.
    let sends = 0;
    let failures = 0;
    let poolsUnderLoad: Record<string, unknown>[] = [];
    const deadline = performance.now() + 3000;
    const senders = apis.flatMap((p) =>
      Array.from({ length: 4 }, async () => {
        while (performance.now() < deadline) {
          const r = await http(p.url, 'POST', '/v1/messages', { token: sender, body: { to: 'Sink', body: 'load' } });
          if (r.status === 201) sends += 1;
          else failures += 1;
        }
      }),
    );
    await sleep(2000);
    poolsUnderLoad = await bouncer.admin('SHOW POOLS');
    await Promise.all(senders);
    const cpu1 = cpuSeconds(fleet);
    const loadS = (performance.now() - t0) / 1000;
    await watch.stop();
    const stats = (await bouncer.admin<Record<string, string>>('SHOW STATS')).find((r) => r.database === fleet.database);
    const workers = ROLES.filter((r) => r === 'worker').length;
    const budget = BOUNCER_POOL + ROLES.length + workers;
    const clients = ROLES.length * PROCESS_POOL;
    const pool = poolsUnderLoad.find((r) => r.database === fleet.database) ?? {};
    note(
      `connections: peak ${watch.peak.total} on PostgreSQL (${watch.peak.listen} LISTEN + ${watch.peak.locks} sweep locks + at most ${watch.peak.pooled} from the bouncer); ` +
        `budget ${budget} = bouncer pool ${BOUNCER_POOL} + ${ROLES.length} LISTEN + ${workers} locks; without the bouncer the pools alone could open ${clients} + ${ROLES.length} LISTEN`,
    );
    const pct = (k: keyof typeof cpu0): string => `${(((cpu1[k] - cpu0[k]) / loadS) * 100).toFixed(0)} %`;
    note(
      `load: ${sends} sends in ${loadS.toFixed(1)} s through ${apis.length} api processes (${(sends / loadS).toFixed(0)}/s), ${failures} failed; ` +
        `CPU (of one core) hubs ${pct('hubs')}, pgbouncer ${pct('bouncer')}, this test ${pct('self')}`,
    );
    note(`pgbouncer under load (SHOW POOLS): ${JSON.stringify(pool)}`);
    note(`pgbouncer totals (SHOW STATS): ${JSON.stringify(stats)}`);
    const rss = (role: Role): string => {
      const xs = fleet.procs.filter((p) => p.role === role).map((p) => procUsage(p.hub.proc.pid ?? 0)?.rssMiB ?? NaN).sort((a, b) => a - b);
      return `${role} ${xs[0]?.toFixed(0)}–${xs.at(-1)?.toFixed(0)} MiB (median ${xs[Math.floor(xs.length / 2)]?.toFixed(0)})`;
    };
    note(`RSS after the load: ${rss('api')}, ${rss('config')}, ${rss('worker')}`);
    assert.equal(failures, 0, 'every send accepted');
    assert.ok(sends > 100, `too little load to mean anything: ${sends} sends`);
    assert.ok(watch.peak.pooled <= BOUNCER_POOL, `at most the bouncer's pool from the bouncer (${watch.peak.pooled} > ${BOUNCER_POOL})`);
    assert.ok(watch.peak.total <= budget, `within the budget (${watch.peak.total} > ${budget})`);
    assert.equal(watch.peak.listen, ROLES.length);
    assert.ok(watch.peak.locks <= workers, `at most one lock connection per worker (${watch.peak.locks} > ${workers})`);
  });

  it('a process left with named statements behind the bouncer is told to set store.prepare false', async () => {
    // One server connection: the second store finds the first one's statements on it.
    const narrow = await startPgBouncer({ upstream: { host: '127.0.0.1', port: fleet.pg.port }, poolSize: 1, maxClients: 10 });
    const open = (): Promise<PostgresStore> => PostgresStore.open({ url: narrow.url(fleet.database), sessionUrl: fleet.pg.url, schema: SCHEMA, poolSize: 1, prepare: true });
    try {
      const first = await open();
      try {
        await assert.rejects(open(), (e: unknown) => e instanceof HubError && e.code === 'config_invalid' && /set store\.prepare to false/.test(e.message));
      } finally {
        await first.close();
      }
    } finally {
      await narrow.stop();
    }
  });

  it('a process whose LISTEN goes through the bouncer, or nowhere, says so', async () => {
    const dir = tempDir();
    const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/${fleet.database}`;
    const [viaBouncer, nowhere] = await Promise.all(
      [{ SWARM_SESSION_DATABASE: '' }, { SWARM_SESSION_DATABASE: unreachable }].map((extra, i) => spawnHub(join(dir, `q${i}`), { env: { ...fleet.env, ...extra }, args: ['--role', 'api'] })),
    );
    try {
      await until('a warning about LISTEN through the bouncer', () => /did not hear a notification published through store\.database.*set store\.sessionDatabase/.test(viaBouncer?.output() ?? ''), 10_000);
      await until('a warning about the LISTEN connection that cannot open', () => /LISTEN connection to .* did not open within/.test(nowhere?.output() ?? ''), 10_000);
    } finally {
      await Promise.all([viaBouncer?.stop(), nowhere?.stop()]);
    }
  });

  // Last, so that it covers everything above: sweeps, polls and publishes through the bouncer.
  it('no process logged a warning or an error', () => {
    // At SWARM_LOG_LEVEL=warn a hub prints its `listening on` line and nothing else unless warned.
    const logged = fleet.procs.flatMap((p, i) => p.hub.output().split('\n').filter((l) => l !== '' && !/^swarm hub listening on /.test(l)).map((l) => `p${i} ${p.role}: ${l}`));
    assert.deepEqual(logged, []);
  });
});
