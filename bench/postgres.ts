// `npm run bench -- --only postgres`: the send load of bench/send.ts (256-byte sends, 50
// connections) against the hub on PostgreSQL with 1, 2 and 3 `swarm serve --role api` processes
// (plus one `--role worker`), each configuration on a fresh schema, beside the embedded SQLite hub
// (`--role all`) in the same run. The connections are spread evenly over the api processes (one
// autocannon instance per process, all in this process, one shared latency record). Reports
// sends/s, p50/p99, errors, the CPU of the hub processes and of the PostgreSQL server's processes
// (/proc), connections, rows and WAL per send, and the RSS of idle and loaded api processes; then
// checks that every 2xx is a stored message with its delivery. `--prepare on,off` runs each process
// count with named statements and with unnamed ones (store.prepare off, as behind PgBouncer in
// transaction mode), to show what parsing and planning every statement costs. The database:
// SWARM_BENCH_DATABASE_URL, or a throwaway cluster from scripts/postgres.mjs (as `npm test` does),
// stopped on exit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { intOption, parseFlags, machine, median, procUsage, runMain, table, UsageError, synchronousOption } from './report.js';
import { type PgBouncer, startPgBouncer } from '../test/support/pgbouncer.js';
import { cpuProfArgs, registerAgents, type ServerProcess, spawnServer, startHub, storedSends, SWARM_BIN, UNLIMITED } from './servers.js';
import { openDatabase, type Pg } from './database.js';
import { AGENTS, BODY, fire, type Load, spread } from './spread-load.js';
import { GroupCpu, peakRssMiB, postgresPids } from './proc-group.js';


interface Settings {
  durationS: number;
  warmupS: number;
  connections: number;
  runs: number;
  processes: number[];
  synchronous: 'full' | 'normal';
  poolSize: number | undefined;
  /** store.prepare of the hub processes, one configuration per value. */
  prepare: boolean[];
  pgbouncer: boolean;
  sqlite: boolean;
  json: boolean;
  keep: boolean;
  cpuProfDir: string | undefined;
}

const HELP = [
  'npm run bench -- --only postgres [--duration S] [--warmup S] [--connections N] [--runs N] [--processes 1,2,3] [--synchronous full|normal] [--pool-size N] [--prepare on,off] [--pgbouncer] [--no-sqlite] [--cpu-prof DIR] [--keep] [--json]',
  '  --duration S      measured seconds per run (BENCH_DURATION, default 10)',
  '  --warmup S        unmeasured seconds before each run (BENCH_WARMUP, default 2)',
  '  --connections N   HTTP connections in all, spread evenly over the api processes (BENCH_CONNECTIONS, default 50)',
  '  --runs N          runs per configuration, medians reported (BENCH_RUNS, default 3)',
  '  --processes LIST  api process counts to measure (default 1,2,3)',
  '  --synchronous M   the SQLite baseline\'s synchronous mode (default full)',
  '  --pool-size N     SWARM_POOL_SIZE of the hub processes (default: the hub\'s, 10)',
  '  --prepare LIST    store.prepare of the hub processes: on (named statements, the default), off (unnamed, as',
  '                    behind PgBouncer in transaction mode), or on,off to measure both (default on)',
  '  --pgbouncer       the hub processes\' pools go through a throwaway PgBouncer in transaction mode (pool 20; LISTEN',
  '                    straight to the server; needs --prepare off, its default then). It connects as the URL\'s user',
  '                    without a password: the throwaway cluster, or a server that trusts 127.0.0.1',
  '  --no-sqlite       skip the embedded SQLite baseline',
  '  --cpu-prof DIR    run the api processes under node --cpu-prof, profiles written to DIR',
  '  --keep            keep the schemas (SWARM_BENCH_DATABASE_URL) and data directories',
  '  --json            machine-readable results on stdout',
  'Database: SWARM_BENCH_DATABASE_URL (schemas swarm_bench_* are created there and dropped after),',
  'else a throwaway PostgreSQL cluster on 127.0.0.1 (scripts/postgres.mjs), removed on exit.',
  '',
].join('\n');

function settings(argv: string[]): Settings {
  const values = parseFlags(argv, {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    runs: { type: 'string' },
    processes: { type: 'string' },
    synchronous: { type: 'string' },
    'pool-size': { type: 'string' },
    prepare: { type: 'string' },
    pgbouncer: { type: 'boolean', default: false },
    'no-sqlite': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  }, HELP);
  const processes = (values.processes ?? '1,2,3').split(',').map((x) => Number(x.trim()));
  if (processes.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new UsageError(`--processes must be a comma-separated list of 1 to 16, got ${values.processes}`);
  const sync = synchronousOption(values.synchronous);
  const prepare = (values.prepare ?? (values.pgbouncer ? 'off' : 'on')).split(',').map((x) => x.trim());
  if (prepare.length === 0 || prepare.some((x) => x !== 'on' && x !== 'off')) throw new UsageError(`--prepare must be on, off or on,off, got ${values.prepare}`);
  if (values.pgbouncer && prepare.includes('on')) throw new UsageError('--pgbouncer needs --prepare off: PgBouncer 1.18 in transaction mode keeps no named statements');
  const connections = intOption('connections', values.connections, process.env.BENCH_CONNECTIONS, 50, 1, 1000);
  if (connections < Math.max(...processes)) throw new UsageError(`--connections ${connections} is fewer than the api processes`);
  return {
    durationS: intOption('duration', values.duration, process.env.BENCH_DURATION, 10, 1, 600),
    warmupS: intOption('warmup', values.warmup, process.env.BENCH_WARMUP, 2, 0, 60),
    connections,
    runs: intOption('runs', values.runs, process.env.BENCH_RUNS, 3, 1, 20),
    processes,
    synchronous: sync,
    poolSize: values['pool-size'] === undefined ? undefined : intOption('pool-size', values['pool-size'], undefined, 10, 1, 1000),
    prepare: prepare.map((x) => x === 'on'),
    pgbouncer: values.pgbouncer,
    sqlite: !values['no-sqlite'],
    json: values.json,
    keep: values.keep,
    cpuProfDir: values['cpu-prof'],
  };
}

// ---- one configuration ----

interface ConfigResult {
  name: string;
  apiProcesses: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  perRun: number[];
  /** Median of the runs' CPU, percent of one core: hub processes (api + worker, or the SQLite hub), PostgreSQL, load generator. */
  cpuPct: { hub: number; worker: number; postgres: number; loadgen: number };
  /** CPU ms per 2xx send, medians of the runs. */
  cpuMsPerSend: { hub: number; postgres: number; bouncer: number };
  rssMiB: { idle: number[]; loaded: number[]; peak: number[] };
  loadAverage1m: { before: number; after: number };
  /** PostgreSQL only: client connections of this configuration's processes under load, and writes per stored message. */
  db: { connections: number; listeners: number; rowsInsertedPerMsg: number; rowsUpdatedPerMsg: number; commitsPerMsg: number; walBytesPerMsg: number } | null;
  store: { answered2xx: number; storedMessages: number; deliveries: number; inFlightAtStops: number; maxInFlight: number; ok: boolean };
  hubExitCodes: (number | null)[];
}

interface Measured {
  urls: string[];
  token: string;
  hubPids: number[];
  workerPid: number | null;
  pgCpu: GroupCpu | null;
  bouncerCpu?: GroupCpu | undefined;
  /** Called near the end of each measured run, while the load is on. */
  underLoad?: () => Promise<void>;
}

async function loadRuns(s: Settings, m: Measured, log: (l: string) => void, name: string) {
  const targets = spread(m.urls, s.connections);
  const hubCpu = new GroupCpu(() => m.hubPids);
  const workerCpu = new GroupCpu(() => (m.workerPid === null ? [] : [m.workerPid]));
  const selfCpu = new GroupCpu(() => [process.pid]);
  const runs: { load: Load; hubPct: number; workerPct: number; pgPct: number; loadgenPct: number; hubMs: number; pgMs: number; bouncerMs: number }[] = [];
  let ok = 0;
  let loads = 0;
  const idle = m.hubPids.map((pid) => procUsage(pid)?.rssMiB ?? NaN);
  let loaded: number[] = [];
  for (let i = 0; i < s.runs; i++) {
    if (s.warmupS > 0) {
      const w = await fire(targets, m.token, s.warmupS);
      ok += w.ok;
      loads += 1;
    }
    for (const c of [hubCpu, workerCpu, selfCpu, m.pgCpu, m.bouncerCpu]) c?.mark();
    const probe = m.underLoad === undefined ? null : setTimeout(() => void m.underLoad?.(), s.durationS * 800);
    const load = await fire(targets, m.token, s.durationS);
    if (probe !== null) clearTimeout(probe);
    const h = hubCpu.read();
    const wk = workerCpu.read();
    const me = selfCpu.read();
    const p = m.pgCpu?.read() ?? { cpuS: NaN, wallS: NaN };
    const b = m.bouncerCpu?.read() ?? { cpuS: NaN, wallS: NaN };
    loaded = m.hubPids.map((pid) => procUsage(pid)?.rssMiB ?? NaN);
    ok += load.ok;
    loads += 1;
    const sends = load.rate * s.durationS;
    runs.push({
      load,
      hubPct: (h.cpuS / h.wallS) * 100,
      workerPct: (wk.cpuS / wk.wallS) * 100,
      pgPct: (p.cpuS / p.wallS) * 100,
      loadgenPct: (me.cpuS / me.wallS) * 100,
      // CPU over the window per send answered in it (the window also holds the few ms around the run).
      hubMs: ((h.cpuS * s.durationS) / h.wallS / sends) * 1000,
      pgMs: ((p.cpuS * s.durationS) / p.wallS / sends) * 1000,
      bouncerMs: ((b.cpuS * s.durationS) / b.wallS / sends) * 1000,
    });
    const l = load;
    log(
      `${name} run ${i + 1}/${s.runs}: ${l.rate.toFixed(0)} sends/s (${l.perTarget.map((x) => x.toFixed(0)).join(' + ')})  p50 ${l.p50.toFixed(2)} ms  p99 ${l.p99.toFixed(2)} ms  max ${l.max.toFixed(1)} ms  ` +
        `cpu hub ${runs.at(-1)?.hubPct.toFixed(0)}% pg ${runs.at(-1)?.pgPct.toFixed(0)}% loadgen ${runs.at(-1)?.loadgenPct.toFixed(0)}%` +
        (l.errors > 0 ? `  ERRORS ${l.errors} ${JSON.stringify(l.statusCodes)}` : ''),
    );
  }
  return {
    ok,
    loads,
    rate: median(runs.map((r) => r.load.rate)),
    p50: median(runs.map((r) => r.load.p50)),
    p99: median(runs.map((r) => r.load.p99)),
    errors: runs.reduce((n, r) => n + r.load.errors, 0),
    perRun: runs.map((r) => r.load.rate),
    cpuPct: { hub: median(runs.map((r) => r.hubPct)), worker: median(runs.map((r) => r.workerPct)), postgres: median(runs.map((r) => r.pgPct)), loadgen: median(runs.map((r) => r.loadgenPct)) },
    cpuMsPerSend: { hub: median(runs.map((r) => r.hubMs)), postgres: median(runs.map((r) => r.pgMs)), bouncer: median(runs.map((r) => r.bouncerMs)) },
    rssMiB: { idle, loaded, peak: m.hubPids.map(peakRssMiB) },
  };
}

async function sqliteBaseline(s: Settings, log: (l: string) => void): Promise<ConfigResult> {
  const loadBefore = loadavg()[0] ?? NaN;
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-pg-sqlite-'));
  if (!s.keep) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const hub = await startHub({ dataDir, synchronous: s.synchronous });
  let r;
  try {
    await registerAgents(hub.url, hub.adminToken, AGENTS);
    r = await loadRuns(s, { urls: [hub.url], token: hub.adminToken, hubPids: [hub.proc.pid ?? 0], workerPid: null, pgCpu: null }, log, 'sqlite');
  } finally {
    const code = await hub.stop();
    if (code !== 0) log(`sqlite hub exited with ${code}:\n${hub.output()}`);
  }
  const { stored, deliveries } = storedSends(dataDir, BODY);
  const { ok, loads, ...rest } = r;
  return {
    name: `SQLite, --role all (synchronous=${s.synchronous})`,
    apiProcesses: 1,
    ...rest,
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
    db: null,
    store: storeCheck(ok, stored, deliveries, loads * s.connections),
    hubExitCodes: [hub.proc.exitCode],
  };
}

function storeCheck(ok: number, stored: number, deliveries: number, maxInFlight: number) {
  const inFlight = stored - ok;
  return { answered2xx: ok, storedMessages: stored, deliveries, inFlightAtStops: inFlight, maxInFlight, ok: inFlight >= 0 && inFlight <= maxInFlight && deliveries === stored };
}


async function postgresConfig(s: Settings, n: number, prepare: boolean, db: Pg, bouncer: PgBouncer | null, log: (l: string) => void): Promise<ConfigResult> {
  const loadBefore = loadavg()[0] ?? NaN;
  const schema = `swarm_bench_${process.pid}_n${n}${prepare ? '' : '_unprepared'}`;
  const name = `postgres ×${n}${prepare ? '' : ' prepare off'}${bouncer === null ? '' : ' via PgBouncer'}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-pg-'));
  if (!s.keep) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = { SWARM_DATABASE: db.url, SWARM_DB_SCHEMA: schema, SWARM_DB_PREPARE: String(prepare), SWARM_LOG_LEVEL: 'warn', ...UNLIMITED };
  if (s.poolSize !== undefined) env.SWARM_POOL_SIZE = String(s.poolSize);
  if (bouncer !== null) Object.assign(env, { SWARM_DATABASE: bouncer.url(new URL(db.url).pathname.slice(1)), SWARM_SESSION_DATABASE: db.url });
  const prof = cpuProfArgs(s.cpuProfDir);
  const serve = (role: string): Promise<ServerProcess> => spawnServer([...(role === 'api' ? prof : []), SWARM_BIN, 'serve', '--role', role, '--host', '127.0.0.1', '--port', '0', '--data', dataDir], env, dataDir);
  const q = async (sql: string, params: unknown[] = []): Promise<Record<string, string>> => (await db.admin.query(sql, params)).rows[0] as Record<string, string>;
  const dbStats = async () => {
    const r = await q(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits, pg_current_wal_lsn()::text AS lsn`,
    );
    return { commits: Number(r.commits), lsn: r.lsn ?? '0/0' };
  };
  const before = await dbStats();
  // One at a time: the worker creates and migrates the schema, then each api process joins it
  // (the first writes the admin token into the shared data directory, the others reuse it).
  const procs: ServerProcess[] = [];
  let r;
  let conns = { connections: NaN, listeners: NaN };
  let worker: ServerProcess | null = null;
  try {
    worker = await serve('worker');
    for (let i = 0; i < n; i++) procs.push(await serve('api'));
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await registerAgents(procs[0]?.url ?? '', token, AGENTS);
    const postmaster = db.postmaster;
    const pgCpu = postmaster === null ? null : new GroupCpu(() => postgresPids(postmaster));
    const underLoad = async (): Promise<void> => {
      // This configuration's processes are the only clients of the database besides this one.
      const c = await q(
        `SELECT count(*) FILTER (WHERE pid <> pg_backend_pid()) AS n, count(*) FILTER (WHERE query ILIKE 'LISTEN%') AS l FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
      ).catch(() => ({ n: 'NaN', l: 'NaN' }) as Record<string, string>);
      conns = { connections: Math.max(conns.connections || 0, Number(c.n)), listeners: Number(c.l) };
    };
    r = await loadRuns(s, { urls: procs.map((p) => p.url), token, hubPids: procs.map((p) => p.proc.pid ?? 0), workerPid: worker.proc.pid ?? null, pgCpu, bouncerCpu: bouncer === null ? undefined : new GroupCpu(() => [bouncer.pid]), underLoad }, log, name);
  } finally {
    for (const p of await Promise.all(procs.map(async (p) => ({ p, code: await p.stop() })))) if (p.code !== 0) log(`api exited with ${p.code}:\n${p.p.output()}`);
    const code = await worker?.stop();
    if (code !== undefined && code !== 0) log(`worker exited with ${code}:\n${worker?.output()}`);
  }
  // Every process has drained and exited, so their statistics are flushed.
  const after = await dbStats();
  const counts = await q(
    `SELECT (SELECT count(*) FROM "${schema}".messages WHERE body = $1) AS stored,
            (SELECT count(*) FROM "${schema}".deliveries d JOIN "${schema}".messages m ON m.seq = d.message_seq WHERE m.body = $1) AS deliveries,
            (SELECT sum(n_tup_ins) FROM pg_stat_user_tables WHERE schemaname = $2) AS ins,
            (SELECT sum(n_tup_upd) FROM pg_stat_user_tables WHERE schemaname = $2) AS upd,
            pg_wal_lsn_diff($3::pg_lsn, $4::pg_lsn) AS wal`,
    [BODY, schema, after.lsn, before.lsn],
  );
  const stored = Number(counts.stored);
  if (!s.keep && process.env.SWARM_BENCH_DATABASE_URL) await db.admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  const { ok, loads, ...rest } = r;
  return {
    name: `PostgreSQL, ${n} × --role api + 1 worker${prepare ? '' : ', store.prepare off'}${bouncer === null ? '' : ', via PgBouncer'}`,
    apiProcesses: n,
    ...rest,
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
    db: {
      ...conns,
      rowsInsertedPerMsg: Number(counts.ins) / stored,
      rowsUpdatedPerMsg: Number(counts.upd) / stored,
      commitsPerMsg: (after.commits - before.commits) / stored,
      walBytesPerMsg: Number(counts.wal) / stored,
    },
    store: storeCheck(ok, stored, Number(counts.deliveries), loads * s.connections),
    hubExitCodes: [...procs.map((p) => p.proc.exitCode), worker?.proc.exitCode ?? null],
  };
}

// ---- main ----

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const configs = s.processes.length * s.prepare.length + (s.sqlite ? 1 : 0);
  const budgetS = configs * (s.runs * (s.durationS + s.warmupS + 40) + 60) + 300;
  const watchdog = setTimeout(() => {
    log(`did not finish within ${budgetS} s; giving up`);
    process.exit(2);
  }, budgetS * 1000);

  const loadBefore = loadavg()[0] ?? NaN;
  const db = await openDatabase(log);
  log(`PostgreSQL ${db.version}: ${db.where}`);
  const u = new URL(db.url);
  const bouncer = s.pgbouncer ? await startPgBouncer({ upstream: { host: u.hostname, port: Number(u.port || 5432) }, poolSize: 20, maxClients: 1000, user: decodeURIComponent(u.username) || 'postgres' }) : null;
  if (bouncer !== null) log(`PgBouncer on 127.0.0.1:${bouncer.port}, transaction mode, pool 20`);
  log(`${s.runs} run(s) per configuration, ${s.connections} connections, ${s.warmupS} s warm-up + ${s.durationS} s measured each`);
  const results: ConfigResult[] = [];
  try {
    if (s.sqlite) results.push(await sqliteBaseline(s, log));
    for (const n of s.processes) for (const prepare of s.prepare) results.push(await postgresConfig(s, n, prepare, db, bouncer, log));
  } finally {
    await bouncer?.stop();
    await db.admin.end().catch(() => undefined);
    db.stop();
  }
  clearTimeout(watchdog);

  const valid = results.every((r) => r.errors === 0 && r.store.ok);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
    postgres: { version: db.version, where: db.where },
    settings: { durationS: s.durationS, warmupS: s.warmupS, connections: s.connections, runs: s.runs, bodyBytes: BODY.length, sqliteSynchronous: s.synchronous, poolSize: s.poolSize ?? 10, prepare: s.prepare, pgbouncer: s.pgbouncer },
    results,
    valid,
  };
  if (s.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
    const mib = (xs: number[]): string => xs.map((x) => f(x)).join('/');
    const m = result.machine;
    process.stdout.write(
      [
        `PostgreSQL benchmark: ${BODY.length}-byte sends, ${s.connections} connections spread over the api processes, ${s.runs} × (${s.warmupS} s warm-up + ${s.durationS} s), medians`,
        `${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, node ${m.node}, Linux ${m.kernel}; load average (1 min) ${f(result.loadAverage1m.before, 2)} before, ${f(result.loadAverage1m.after, 2)} after`,
        `PostgreSQL ${db.version}: ${db.where}; hub pool size ${s.poolSize ?? 10} (SWARM_POOL_SIZE)`,
        '',
        table([
          ['configuration', 'sends/s', 'p50 ms', 'p99 ms', 'errors', 'hub cpu %', 'pg cpu %', 'loadgen %', 'hub ms/send', 'pg ms/send', ...(s.pgbouncer ? ['bouncer ms/send'] : []), 'load 1m', 'per run sends/s'],
          ...results.map((r) => [
            r.name,
            f(r.rate),
            f(r.p50, 2),
            f(r.p99, 2),
            String(r.errors),
            f(r.cpuPct.hub + (Number.isFinite(r.cpuPct.worker) ? r.cpuPct.worker : 0)),
            f(r.cpuPct.postgres),
            f(r.cpuPct.loadgen),
            f(r.cpuMsPerSend.hub, 3),
            f(r.cpuMsPerSend.postgres, 3),
            ...(s.pgbouncer ? [f(r.cpuMsPerSend.bouncer, 3)] : []),
            `${f(r.loadAverage1m.before, 1)}→${f(r.loadAverage1m.after, 1)}`,
            r.perRun.map((x) => f(x)).join(' / '),
          ]),
        ]),
        '',
        'hub cpu % is the api processes plus the worker (or the SQLite hub), in % of one core (200 % = both cores).',
        ...results.map((r) =>
          [
            `${r.name}: RSS MiB per hub process idle ${mib(r.rssMiB.idle)}, loaded ${mib(r.rssMiB.loaded)}, peak ${mib(r.rssMiB.peak)}; worker cpu ${f(r.cpuPct.worker)} %`,
            ...(r.db === null
              ? []
              : [
                  `  database: ${f(r.db.connections)} client connections under load (${f(r.db.listeners)} LISTEN); per stored message ${f(r.db.rowsInsertedPerMsg, 2)} rows inserted, ` +
                    `${f(r.db.rowsUpdatedPerMsg, 2)} updated, ${f(r.db.commitsPerMsg, 2)} transactions (xact_commit, read-only statements included), ${f(r.db.walBytesPerMsg)} WAL bytes`,
                ]),
            `  store: ${r.store.answered2xx} sends answered 2xx (warm-ups included); ${r.store.storedMessages} messages and ${r.store.deliveries} deliveries stored, ` +
              `${r.store.inFlightAtStops} in flight when a run stopped (at most ${r.store.maxInFlight}): ${r.store.ok ? 'consistent' : 'MISMATCH'}`,
          ].join('\n'),
        ),
        ...(valid ? [] : ['INVALID: errors or a store mismatch (see above)']),
        '',
      ].join('\n'),
    );
  }
  if (!valid) process.exitCode = 1;
}

runMain(main);
