// `npm run bench -- --only fanout`: broadcast fan-out throughput. A real hub (synchronous=FULL),
// 100 agents each with one WebSocket consumer (prefetch 100, acks in batches), and one admin
// broadcaster sending `to: "all"` (every agent) in a closed loop: at most `window` broadcasts are
// out at a time, a broadcast being out until all its deliveries were received. Reports deliveries
// received per second, broadcasts per second, broadcast answered -> delivery received, and the CPU
// of the hub and of the load generator(s), so it is visible which side is the bottleneck. The
// consumers run in this process (`--procs 0`) or split over child processes (`--procs N`).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sender } from './http-send.js';
import { Latencies } from './load.js';
import { CpuMeter, intOption, parseFlags, machine, median, monoMs, type ProcRef, type ProcShare, runMain, statsLines, table, synchronousOption, UsageError } from './report.js';
import { cpuProfArgs, registerAgents, startHub } from './servers.js';
import { openDatabase } from './database.js';
import { benchBody, type ConsumerPool, startConsumers } from './subscribers.js';

/** Deliveries/s asked for: issue 3 (embedded hub), issue 11 (one hub process on PostgreSQL at its default durability). */
const TARGET_DELIVERIES = { sqlite: 50_000, postgres: 20_000 };
const BODY_BYTES = 256;
const DRAIN_MS = 10_000;

interface Settings {
  agents: number;
  window: number;
  procs: number;
  prefetch: number;
  durationS: number;
  warmupS: number;
  runs: number;
  ackBatch: number;
  ackEveryMs: number;
  synchronous: 'full' | 'normal';
  store: 'sqlite' | 'postgres';
  cpuProfDir: string | undefined;
  batchStats: boolean;
  keep: boolean;
  json: boolean;
}

const HELP = [
  'npm run bench -- --only fanout [--agents N] [--window N] [--procs N] [--prefetch N] [--duration S] [--warmup S] [--runs N] [--ack-batch N] [--ack-ms MS] [--synchronous full|normal] [--batch-stats] [--cpu-prof DIR] [--keep] [--json]',
  '  --agents N        agents, one WebSocket consumer each; each broadcast reaches all (default 100)',
  '  --window N        most broadcasts out (sent, not yet received by every agent) at once (default 20)',
  '  --procs N         child processes holding the consumers; 0 = this process (default 0: they use 15-20 % of a core)',
  '  --prefetch N      each consumer\'s prefetch (default 100)',
  '  --duration S      seconds per measured window (BENCH_DURATION, default 10)',
  '  --warmup S        unmeasured seconds first (BENCH_WARMUP, default 2)',
  '  --runs N          consecutive measured windows; medians reported (BENCH_RUNS, default 3)',
  '  --ack-batch N     ack when this many ids wait (default 50) ...',
  '  --ack-ms MS       ... or this long after the first (default 10)',
  '  --synchronous M   the hub\'s SQLite synchronous mode (default full)',
  '  --store S         sqlite (default) or postgres: the hub (one `swarm serve`) on PostgreSQL at its default',
  '                    durability, SWARM_BENCH_DATABASE_URL or a throwaway cluster (a fresh schema either way)',
  '  --batch-stats     run the hub through bench/hub-with-stats.ts: group commits, ack commits, hand-outs (store lease calls)',
  '  --cpu-prof DIR    run the hub under node --cpu-prof, profile written to DIR',
  '  --keep            keep the hub\'s data directory',
  '  --json            machine-readable results on stdout',
  '',
].join('\n');

function settings(argv: string[]): Settings {
  const values = parseFlags(argv, {
    agents: { type: 'string' },
    window: { type: 'string' },
    procs: { type: 'string' },
    prefetch: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    'ack-batch': { type: 'string' },
    'ack-ms': { type: 'string' },
    synchronous: { type: 'string' },
    store: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'batch-stats': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const sync = synchronousOption(values.synchronous);
  return {
    agents: intOption('agents', values.agents, undefined, 100, 1, 1000),
    window: intOption('window', values.window, undefined, 20, 1, 1000),
    procs: intOption('procs', values.procs, undefined, 0, 0, 16),
    prefetch: intOption('prefetch', values.prefetch, undefined, 100, 1, 10_000),
    durationS: intOption('duration', values.duration, process.env.BENCH_DURATION, 10, 1, 600),
    warmupS: intOption('warmup', values.warmup, process.env.BENCH_WARMUP, 2, 0, 60),
    runs: intOption('runs', values.runs, process.env.BENCH_RUNS, 3, 1, 20),
    ackBatch: intOption('ack-batch', values['ack-batch'], undefined, 50, 1, 1000),
    ackEveryMs: intOption('ack-ms', values['ack-ms'], undefined, 10, 1, 1000),
    synchronous: sync,
    store: storeOption(values.store),
    cpuProfDir: values['cpu-prof'],
    batchStats: values['batch-stats'],
    keep: values.keep,
    json: values.json,
  };
}

function storeOption(v: string | undefined): 'sqlite' | 'postgres' {
  if (v === undefined || v === 'sqlite' || v === 'postgres') return v ?? 'sqlite';
  throw new UsageError(`--store must be sqlite or postgres, got ${v}`);
}

/** Growable parallel arrays of (broadcast seq, receive time). */
class Receipts {
  seqs = new Int32Array(1 << 20);
  times = new Float64Array(1 << 20);
  n = 0;

  add(seq: number, t: number): void {
    if (this.n === this.seqs.length) {
      const s = new Int32Array(this.n * 2);
      s.set(this.seqs);
      this.seqs = s;
      const t2 = new Float64Array(this.n * 2);
      t2.set(this.times);
      this.times = t2;
    }
    this.seqs[this.n] = seq;
    this.times[this.n++] = t;
  }
}

interface Window {
  deliveriesPerS: number;
  broadcastsPerS: number;
  latency: { p50: number; p99: number; max: number };
  early: number;
  cpu: Record<string, ProcShare>;
}

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  const log = (line: string): boolean => process.stderr.write(`bench fanout: ${line}\n`);
  const budgetS = s.warmupS + s.runs * s.durationS + 120;
  const watchdog = setTimeout(() => {
    log(`did not finish within ${budgetS} s; giving up`);
    process.exit(2);
  }, budgetS * 1000);

  const loadBefore = loadavg()[0] ?? NaN;
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-fanout-'));
  if (!s.keep) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const nodeArgs = cpuProfArgs(s.cpuProfDir);
  let storeEnv: Record<string, string> = {};
  let where = `SQLite synchronous=${s.synchronous}`;
  /** After the hub stops: the schema dropped (unless --keep), the admin connection closed (it would keep this process alive), the throwaway cluster stopped. */
  let closeDb = async (): Promise<void> => undefined;
  if (s.store === 'postgres') {
    const db = await openDatabase(log);
    const schema = `swarm_bench_fanout_${process.pid}`;
    await db.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    closeDb = async () => {
      if (!s.keep) await db.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.admin.end().catch(() => undefined);
      db.stop();
    };
    process.once('exit', () => db.stop());
    storeEnv = { SWARM_DATABASE: db.url, SWARM_DB_SCHEMA: schema };
    where = `PostgreSQL ${db.version}: ${db.where}`;
    log(where);
  }
  const hub = await startHub({ dataDir, synchronous: s.synchronous, nodeArgs, batchStats: s.batchStats, env: storeEnv });
  // A hub that ends before we stop it (a crash, or a signal from elsewhere) is named, not just seen as errors.
  let stopping = false;
  hub.proc.once('exit', (code, signal) => {
    if (!stopping) log(`the hub exited during the run (code ${code}, signal ${signal}): ${hub.output().slice(-2000)}`);
  });
  log(`hub ${hub.url} (${where}, data ${dataDir}); ${s.agents} consumers in ${s.procs === 0 ? 'this process' : `${s.procs} child processes`}, window ${s.window}`);

  const agents = Array.from({ length: s.agents }, (_, i) => `Agent-${String(i + 1).padStart(3, '0')}`);
  const startedAt: number[] = [];
  const answeredAt: number[] = [];
  const completedAt: number[] = [];
  const got: number[] = [];
  const receipts = new Receipts();
  let out = 0;
  let sending = true;
  let errors = 0;
  let firstError: string | null = null;
  let pool: ConsumerPool | undefined;
  const sender = new Sender(hub.url, hub.adminToken, s.window);
  const windows: Window[] = [];
  const cpuWindows: Record<string, ProcShare>[] = [];
  let drained = true;
  let windowBounds: number[] = [];

  const complete = (seq: number, t: number): void => {
    completedAt[seq] = t;
    out -= 1;
    pump();
  };
  const pump = (): void => {
    while (sending && out < s.window) {
      const seq = startedAt.length;
      out += 1;
      got[seq] = 0;
      startedAt[seq] = monoMs();
      answeredAt[seq] = NaN;
      sender.send({ to: 'all', body: benchBody(seq, BODY_BYTES) }, (r) => {
        answeredAt[seq] = r.answeredAt;
        if (r.status < 200 || r.status >= 300) {
          errors += 1;
          firstError ??= `HTTP ${r.status}: ${r.error ?? ''}`;
          complete(seq, NaN);
        }
      });
    }
  };

  try {
    const tokens = await registerAgents(hub.url, hub.adminToken, agents);
    pool = await startConsumers({ url: hub.url, prefetch: s.prefetch, ackBatch: s.ackBatch, ackEveryMs: s.ackEveryMs }, agents.map((a) => tokens.get(a) as string), s.procs, (seq, t) => {
      receipts.add(seq, t);
      const n = (got[seq] ?? 0) + 1;
      got[seq] = n;
      if (n === s.agents) complete(seq, t);
    });
    const hubPid = hub.proc.pid ?? -1;
    const pids: Record<string, ProcRef> = { hub: hubPid, 'hub main': { pid: hubPid, tid: hubPid }, bench: process.pid };
    if (s.procs > 0) pool.pids.forEach((pid, i) => (pids[`consumers${i + 1}`] = pid));
    const cpu = new CpuMeter(pids);

    const t0 = monoMs();
    windowBounds = Array.from({ length: s.runs + 1 }, (_, i) => t0 + (s.warmupS + i * s.durationS) * 1000);
    pump();
    for (let i = 0; i < s.runs; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, (windowBounds[i] as number) - monoMs())));
      if (i > 0) cpuWindows.push(cpu.read());
      cpu.mark();
      log(`window ${i + 1}/${s.runs}: ${receipts.n} deliveries so far, ${startedAt.length} broadcasts`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, (windowBounds[s.runs] as number) - monoMs())));
    cpuWindows.push(cpu.read());
    sending = false;
    const drainUntil = monoMs() + DRAIN_MS;
    while (out > 0 && monoMs() < drainUntil) await new Promise((r) => setTimeout(r, 20));
    drained = out === 0;
  } finally {
    sender.close();
    await pool?.close();
    stopping = true;
    const code = await hub.stop();
    if (code !== 0) log(`hub exited with ${code}:\n${hub.output()}`);
    await closeDb();
  }
  clearTimeout(watchdog);

  for (let i = 0; i < s.runs; i++) {
    const from = windowBounds[i] as number;
    const to = windowBounds[i + 1] as number;
    const lat = new Latencies();
    let n = 0;
    let early = 0;
    for (let k = 0; k < receipts.n; k++) {
      const t = receipts.times[k] as number;
      if (t < from || t >= to) continue;
      n += 1;
      const a = answeredAt[receipts.seqs[k] as number] as number;
      if (Number.isNaN(a)) continue;
      lat.add(t - a);
      if (t < a) early += 1;
    }
    const done = completedAt.filter((t) => t >= from && t < to).length;
    windows.push({
      deliveriesPerS: (n / (to - from)) * 1000,
      broadcastsPerS: (done / (to - from)) * 1000,
      latency: { p50: lat.percentile(50), p99: lat.percentile(99), max: lat.percentile(100) },
      early,
      cpu: cpuWindows[i] ?? {},
    });
  }
  const counts = pool?.counts() ?? null;
  const totalErrors = errors + (counts?.errors ?? 0) + (drained ? 0 : 1);
  report(s, windows, { where, hubStats: statsLines(hub.output()), loadBefore, errors: totalErrors, drained, firstError: firstError ?? counts?.firstError ?? null, ackFrames: counts?.ackFrames ?? 0, ackedIds: counts?.ackedIds ?? 0, received: counts?.received ?? 0 });
}

function report(s: Settings, windows: Window[], extra: { where: string; hubStats: { lines: string[]; stats: unknown }; loadBefore: number; errors: number; drained: boolean; firstError: string | null; ackFrames: number; ackedIds: number; received: number }): void {
  const med = (f: (w: Window) => number): number => median(windows.map(f));
  const procNames = Object.keys(windows[0]?.cpu ?? {});
  const summary = {
    deliveriesPerS: med((w) => w.deliveriesPerS),
    broadcastsPerS: med((w) => w.broadcastsPerS),
    latency: { p50: med((w) => w.latency.p50), p99: med((w) => w.latency.p99), max: Math.max(...windows.map((w) => w.latency.max)) },
    early: windows.reduce((n, w) => n + w.early, 0),
    cpuPct: Object.fromEntries(procNames.map((p) => [p, med((w) => w.cpu[p]?.cpuPct ?? NaN)])),
    hubRssMiB: Math.max(...windows.map((w) => w.cpu.hub?.rssMiB ?? NaN)),
    /** Hub CPU µs per delivery received: the cost, independent of how much CPU the hub got. */
    hubCpuUsPerDelivery: med((w) => ((w.cpu.hub?.cpuPct ?? NaN) * 1e4) / w.deliveriesPerS),
    /** The same for its main thread (the event loop), which one core must carry alone. */
    hubMainCpuUsPerDelivery: med((w) => ((w.cpu['hub main']?.cpuPct ?? NaN) * 1e4) / w.deliveriesPerS),
  };
  const targetDeliveries = TARGET_DELIVERIES[s.store];
  const met = summary.deliveriesPerS >= targetDeliveries;
  const valid = extra.errors === 0;
  const result = {
    benchmark: 'fanout',
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage1m: { before: extra.loadBefore, after: loadavg()[0] ?? NaN },
    settings: s,
    store: extra.where,
    summary,
    windows,
    consumers: { received: extra.received, ackFrames: extra.ackFrames, ackedIds: extra.ackedIds },
    errors: extra.errors,
    drained: extra.drained,
    firstError: extra.firstError,
    target: { deliveriesPerS: targetDeliveries, met },
    hubStats: extra.hubStats.stats,
    valid,
  };
  if (s.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const m = result.machine;
    const f = (x: number): string => x.toFixed(2);
    const cpuCells = (c: Record<string, ProcShare | number>): string[] => procNames.map((p) => {
      const v = c[p];
      return (typeof v === 'number' ? v : (v?.cpuPct ?? NaN)).toFixed(0);
    });
    const sm = summary;
    process.stdout.write(
      [
        `Fan-out benchmark: broadcasts to ${s.agents} WebSocket consumers (prefetch ${s.prefetch}, ${s.procs === 0 ? 'in the benchmark process' : `in ${s.procs} child processes`}), at most ${s.window} broadcasts out, ${BODY_BYTES}-byte bodies, ${s.warmupS} s warm-up + ${s.runs} × ${s.durationS} s, hub on ${extra.where}`,
        `${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, node ${m.node}, Linux ${m.kernel}; load average (1 min) ${result.loadAverage1m.before.toFixed(2)} before, ${result.loadAverage1m.after.toFixed(2)} after`,
        '',
        table([
          ['window', 'deliveries/s', 'broadcasts/s', 'ans→rcv p50 ms', 'p99 ms', 'max ms', ...procNames.map((p) => `${p} cpu%`)],
          ...windows.map((w, i) => [`${i + 1}`, w.deliveriesPerS.toFixed(0), w.broadcastsPerS.toFixed(1), f(w.latency.p50), f(w.latency.p99), f(w.latency.max), ...cpuCells(w.cpu)]),
          ['median', sm.deliveriesPerS.toFixed(0), sm.broadcastsPerS.toFixed(1), f(sm.latency.p50), f(sm.latency.p99), f(sm.latency.max), ...cpuCells(sm.cpuPct)],
        ]),
        '',
        `(cpu% is percent of one core over the window; 200 % is the whole machine. max is the worst over all windows.)`,
        `fan-out: ${sm.deliveriesPerS.toFixed(0)} deliveries/s (target ≥ ${targetDeliveries}: ${met ? 'met' : 'NOT met'}); hub RSS ${sm.hubRssMiB.toFixed(0)} MiB`,
        `hub CPU per delivery: ${sm.hubCpuUsPerDelivery.toFixed(0)} µs over all its threads, ${sm.hubMainCpuUsPerDelivery.toFixed(0)} µs on its main thread (the target needs ≤ ${(1e6 / targetDeliveries).toFixed(0)} µs on the main thread, and the two cores to hold every thread and the consumers); fairly stable when the machine is shared, unlike the rates`,
        `deliveries received before their broadcast's answer was read: ${sm.early}; ack frames ${extra.ackFrames} for ${extra.ackedIds} ids (${(extra.ackedIds / Math.max(1, extra.ackFrames)).toFixed(1)} per frame)`,
        ...extra.hubStats.lines,
        ...(valid ? [] : [`INVALID: ${extra.errors} errors${extra.drained ? '' : ' (broadcasts still out after the drain)'}${extra.firstError === null ? '' : `; first: ${extra.firstError}`}`]),
        '',
      ].join('\n'),
    );
  }
  if (!valid) process.exitCode = 1;
}

runMain(main);
