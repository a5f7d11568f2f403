// `npm run bench`: 256-byte sends over HTTP against the real hub (synchronous=FULL by default),
// beside a bare Fastify route measured in the same run. Runs alternate bare/hub so the machine's
// noise hits both; the table reports medians. Afterwards the hub is stopped and its database opened
// read-only to check that every 2xx answer is a stored message. Results go to docs/benchmarks.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'autocannon';
import { measure, type RunResult } from './load.js';
import { CpuMeter, intOption, machine, median, parseFlags, runMain, table, synchronousOption } from './report.js';
import { batchStatsOf, cpuProfArgs, registerAgents, startBare, startHub, storedSends } from './servers.js';

const AGENTS = Array.from({ length: 8 }, (_, i) => `Agent-${i + 1}`);
const BODY = 'x'.repeat(256);
const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 20;

interface Settings {
  durationS: number;
  connections: number;
  runs: number;
  warmupS: number;
  synchronous: 'full' | 'normal';
  json: boolean;
  cpuProfDir: string | undefined;
  keep: boolean;
  batchStats: boolean;
  rate: number | undefined;
}

const HELP = [
  'npm run bench -- --only send [--duration S] [--connections N] [--runs N] [--warmup S] [--synchronous full|normal] [--batch-stats] [--cpu-prof DIR] [--rate N] [--keep] [--json]',
  '  --duration S      measured seconds per run and target (BENCH_DURATION, default 10)',
  '  --connections N   concurrent HTTP connections (BENCH_CONNECTIONS, default 50)',
  '  --runs N          runs per target, alternating bare/hub; medians reported (BENCH_RUNS, default 3)',
  '  --warmup S        unmeasured seconds before each run (BENCH_WARMUP, default 2)',
  "  --synchronous M   the hub's SQLite synchronous mode (default full)",
  '  --batch-stats     run the hub through bench/hub-with-stats.ts and report group-commit batch sizes',
  '  --cpu-prof DIR    run the hub under node --cpu-prof, profiles written to DIR',
  '  --rate N          offer N sends/s over all connections instead of as many as are answered: group commits',
  '                    then hold alike between builds, so the hub CPU per send compares on a shared machine',
  "  --keep            keep the hub's data directory",
  '  --json            machine-readable results on stdout',
  '',
].join('\n');

function settings(argv: string[]): Settings {
  const values = parseFlags(
    argv,
    {
      duration: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      synchronous: { type: 'string' },
      'cpu-prof': { type: 'string' },
      rate: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'batch-stats': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    HELP,
  );
  const sync = synchronousOption(values.synchronous);
  return {
    durationS: intOption('duration', values.duration, process.env.BENCH_DURATION, 10, 1, 600),
    connections: intOption('connections', values.connections, process.env.BENCH_CONNECTIONS, 50, 1, 1000),
    runs: intOption('runs', values.runs, process.env.BENCH_RUNS, 3, 1, 20),
    warmupS: intOption('warmup', values.warmup, process.env.BENCH_WARMUP, 2, 0, 60),
    synchronous: sync,
    json: values.json,
    cpuProfDir: values['cpu-prof'],
    keep: values.keep,
    batchStats: values['batch-stats'],
    rate: values.rate === undefined ? undefined : intOption('rate', values.rate, undefined, 0, 1, 1_000_000),
  };
}

function sendRequests(token: string | undefined): Request[] {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  // Each connection cycles through the list, so recipients rotate over the eight agents.
  return AGENTS.map((to) => ({ method: 'POST', path: '/v1/messages', headers, body: JSON.stringify({ to, body: BODY }) }));
}

interface TargetSummary {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  runs: RunResult[];
}

/** Hub CPU of one measured run: µs per answered send over all its threads, and on its main thread alone. */
interface HubCpu {
  usPerSend: number;
  mainUsPerSend: number;
}

function summarize(runs: RunResult[]): TargetSummary {
  return {
    rate: median(runs.map((r) => r.rate)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    runs,
  };
}

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  const log = (line: string): boolean => process.stderr.write(`bench: ${line}\n`);
  // Every run is bounded by autocannon's duration; this bounds the whole benchmark on top.
  const budgetS = s.runs * 2 * (s.durationS + s.warmupS + 40) + 120;
  const watchdog = setTimeout(() => {
    log(`did not finish within ${budgetS} s; giving up`);
    process.exit(2);
  }, budgetS * 1000);

  // The machine may be shared: the 1-minute load average before and after tells whether it was quiet.
  const loadBefore = loadavg()[0] ?? NaN;
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-'));
  // Also when interrupted: servers.ts has already killed the hub by the time this runs.
  if (!s.keep) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const nodeArgs = cpuProfArgs(s.cpuProfDir);
  const hub = await startHub({ dataDir, synchronous: s.synchronous, nodeArgs, batchStats: s.batchStats });
  const bare = await startBare();
  log(`hub ${hub.url} (synchronous=${s.synchronous}, data ${dataDir}); bare fastify ${bare.url}`);
  log(`${s.runs} run(s) per target, ${s.connections} connections, ${s.warmupS} s warm-up + ${s.durationS} s measured each`);

  let hubOk = 0;
  let hubLoads = 0;
  const hubRuns: RunResult[] = [];
  const bareRuns: RunResult[] = [];
  const hubCpu: HubCpu[] = [];
  // The writer thread (SQLite commits) shows in the first figure only: the main thread is the one
  // that caps the rate on this hub, so it is reported apart.
  const hubPid = hub.proc.pid ?? NaN;
  const meter = new CpuMeter({ hub: hubPid, main: { pid: hubPid, tid: hubPid } });
  try {
    await registerAgents(hub.url, hub.adminToken, AGENTS);
    const targets = {
      bare: { url: bare.url, requests: sendRequests(undefined), runs: bareRuns },
      hub: { url: hub.url, requests: sendRequests(hub.adminToken), runs: hubRuns },
    };
    for (let i = 0; i < s.runs; i++) {
      const order = i % 2 === 0 ? (['bare', 'hub'] as const) : (['hub', 'bare'] as const);
      for (const name of order) {
        const t = targets[name];
        const { warmupOk, loads, run } = await measure({
          url: t.url,
          requests: t.requests,
          connections: s.connections,
          durationS: s.durationS,
          warmupS: s.warmupS,
          rate: s.rate,
          onMeasured: () => meter.mark(),
        });
        let cpuNote = '';
        if (name === 'hub') {
          hubOk += warmupOk + run.ok;
          hubLoads += loads;
          const c = meter.read();
          const perSend = (pct: number | undefined): number => ((pct ?? NaN) * 1e4) / run.rate;
          const cpu = { usPerSend: perSend(c.hub?.cpuPct), mainUsPerSend: perSend(c.main?.cpuPct) };
          hubCpu.push(cpu);
          cpuNote = `  hub CPU ${cpu.usPerSend.toFixed(0)} µs/send (main thread ${cpu.mainUsPerSend.toFixed(0)})`;
        }
        t.runs.push(run);
        const bad = run.non2xx + run.errors + run.timeouts;
        log(
          `run ${i + 1}/${s.runs} ${name.padEnd(4)} ${run.rate.toFixed(0)} sends/s  p50 ${run.p50.toFixed(2)} ms  p99 ${run.p99.toFixed(2)} ms  max ${run.max.toFixed(1)} ms${cpuNote}` +
            (bad > 0 ? `  ERRORS non2xx=${run.non2xx} errors=${run.errors} timeouts=${run.timeouts} ${JSON.stringify(run.statusCodes)}` : ''),
        );
      }
    }
  } finally {
    await bare.stop();
    const code = await hub.stop();
    if (code !== 0) log(`hub exited with ${code}:\n${hub.output()}`);
  }

  // The hub has drained and closed: every 2xx it answered must be a stored message with its delivery.
  // A few more may be stored: when autocannon stops a run, each connection may have one send in
  // flight that the hub commits but whose answer nobody reads.
  const { stored, deliveries } = storedSends(dataDir, BODY);
  if (s.keep) log(`kept ${dataDir}`);

  const b = summarize(bareRuns);
  const h = summarize(hubRuns);
  const ratio = h.rate / b.rate;
  const unanswered = stored - hubOk;
  const storeOk = unanswered >= 0 && unanswered <= hubLoads * s.connections && deliveries === stored;
  const valid = b.errors === 0 && h.errors === 0 && storeOk;
  const targetsMet = { ratio: ratio >= TARGET_RATIO, p99: h.p99 < TARGET_P99_MS };
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
    settings: { durationS: s.durationS, connections: s.connections, rate: s.rate ?? null, runs: s.runs, warmupS: s.warmupS, synchronous: s.synchronous, bodyBytes: BODY.length },
    bare: b,
    hub: h,
    ratio,
    hubCpu: { usPerSend: median(hubCpu.map((c) => c.usPerSend)), mainUsPerSend: median(hubCpu.map((c) => c.mainUsPerSend)), runs: hubCpu },
    perRunRatio: hubRuns.map((r, i) => r.rate / (bareRuns[i]?.rate ?? NaN)),
    batches: batchStatsOf(hub.output()),
    store: { answered2xx: hubOk, storedMessages: stored, deliveries, inFlightAtStops: unanswered, maxInFlight: hubLoads * s.connections, ok: storeOk },
    targets: { ratioAtLeast: TARGET_RATIO, p99BelowMs: TARGET_P99_MS, ...targetsMet },
    valid,
  };
  clearTimeout(watchdog);

  if (s.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const row = (name: string, t: TargetSummary): string[] => [name, t.rate.toFixed(0), t.p50.toFixed(2), t.p99.toFixed(2), String(t.errors), t.runs.map((r) => r.rate.toFixed(0)).join(' / ')];
    const m = result.machine;
    process.stdout.write(
      [
        `Send benchmark: ${BODY.length}-byte bodies, ${s.connections} connections${s.rate === undefined ? '' : `, ${s.rate} sends/s offered`}, ${s.runs} × (${s.warmupS} s warm-up + ${s.durationS} s), hub synchronous=${s.synchronous}`,
        `${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, node ${m.node}, Linux ${m.kernel}; load average (1 min) ${result.loadAverage1m.before.toFixed(2)} before, ${result.loadAverage1m.after.toFixed(2)} after`,
        '',
        table([['target', 'sends/s', 'p50 ms', 'p99 ms', 'errors', 'per run sends/s'], row('bare fastify', b), row('swarm hub', h)]),
        '',
        `hub / bare: ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}: ${targetsMet.ratio ? 'met' : 'NOT met'}); per run ${result.perRunRatio.map((x) => x.toFixed(2)).join(' / ')}`,
        `hub CPU per send (median of runs): ${result.hubCpu.usPerSend.toFixed(0)} µs over all its threads, ${result.hubCpu.mainUsPerSend.toFixed(0)} µs on its main thread`,
        `hub p99: ${h.p99.toFixed(2)} ms (target < ${TARGET_P99_MS} ms: ${targetsMet.p99 ? 'met' : 'NOT met'})`,
        `store: ${hubOk} sends answered 2xx (warm-ups included); ${stored} messages and ${deliveries} deliveries stored, ` +
          `${unanswered} of them in flight when a run stopped (at most ${hubLoads * s.connections}): ${storeOk ? 'consistent' : 'MISMATCH'}`,
...(result.batches === null
          ? []
          : [
              `group commit (all hub sends, warm-ups included): ${result.batches.batches} commits, batch mean ${result.batches.meanBatch.toFixed(1)} / p50 ${result.batches.p50Batch} / p99 ${result.batches.p99Batch} / max ${result.batches.maxBatch}; ` +
                `commit p50 ${result.batches.commitUsP50.toFixed(0)} µs, p99 ${result.batches.commitUsP99.toFixed(0)} µs, ${result.batches.commitUsPerItem.toFixed(1)} µs per send, ${(result.batches.commitMsTotal / 1000).toFixed(1)} s in commits`,
            ]),
        ...(valid ? [] : ['INVALID: errors or a store mismatch (see above)']),
        '',
      ].join('\n'),
    );
  }
  if (!valid) process.exitCode = 1;
}

runMain(main);
