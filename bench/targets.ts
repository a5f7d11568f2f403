// `npm run bench -- --only targets`: webhook delivery targets (src/delivery/) pushing to a local
// receiver in this process, in three set-ups measured in one run: the embedded hub (SQLite,
// synchronous=FULL; its own pusher), and on PostgreSQL (PostgreSQL's default durability: fsync
// on) one `--role api` with 1 and with 5 `--role worker` processes. For each:
//   - throughput: a backlog of --messages sends queued with no pusher running, then the pushers
//     started; deliveries/s from the first push received to the last;
//   - latency: with the pushers running, sends at a fixed offered rate (open loop, --rate for
//     --duration seconds); from the send's start to the push received, both on this process's
//     performance.now() clock.
// The receiver answers 204 at once and checks every signature.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { startReceiver, type Receiver } from '../test/support/webhook-receiver.js';
import { openDatabase } from './database.js';
import { Latencies } from './load.js';
import { intOption, machine, monoMs, parseFlags, runMain, table } from './report.js';
import { registerAgents, type ServerProcess, spawnServer, startHub, SWARM_BIN, UNLIMITED } from './servers.js';

const HELP = [
  'npm run bench -- --only targets [--messages N] [--rate N] [--duration S] [--concurrency N] [--keep] [--json]',
  '  --messages N   backlog pushed for the throughput figure (default 5000)',
  '  --rate N       sends per second offered for the latency figure (default 100)',
  '  --duration S   seconds of that load (default 10)',
  '  --concurrency N  targets.concurrency of the pushers (default: the hub default, 16)',
  "  --keep         keep the hubs' data directories",
  '  --json         machine-readable results on stdout',
  '',
].join('\n');

interface Setup {
  name: string;
  /** Starts the hub processes with pushers off (`deliver` false) or on. */
  start(deliver: boolean): Promise<ServerProcess[]>;
  /** The process that takes sends and admin calls. */
  api(procs: ServerProcess[]): ServerProcess;
}

interface Result {
  setup: string;
  deliveriesPerSecond: number;
  backlog: number;
  offeredRate: number;
  sent: number;
  p50: number;
  p99: number;
  max: number;
  badSignatures: number;
}

const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

async function post(url: string, token: string, path: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}${path}`, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

async function measure(s: Setup, o: { messages: number; rate: number; seconds: number }, log: (l: string) => void): Promise<Result> {
  let secret = '';
  const rx: Receiver = await startReceiver(() => secret);
  try {
    // Throughput: the backlog first, with nothing pushing.
    let procs = await s.start(false);
    const api = s.api(procs);
    const admin = (api as ServerProcess & { adminToken: string }).adminToken;
    const tokens = await registerAgents(api.url, admin, ['Sender', 'Receiver']);
    const sender = tokens.get('Sender') as string;
    secret = (await post(api.url, admin, '/v1/agents/Receiver/targets', { kind: 'webhook', url: rx.url })).secret as string;
    for (let i = 0; i < o.messages; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, o.messages - i) }, (_, j) => post(api.url, sender, '/v1/messages', { to: 'Receiver', body: `backlog ${i + j}` })));
    }
    await Promise.all(procs.map((p) => p.stop()));
    log(`${s.name}: ${o.messages} queued; starting the pushers`);
    procs = await s.start(true);
    const deadline = monoMs() + 300_000;
    await rx.waitDelivered(o.messages, deadline - monoMs());
    const arrivals = rx.pushes.map((p) => p.at);
    const spanMs = Math.max(...arrivals) - Math.min(...arrivals);
    const deliveriesPerSecond = (o.messages - 1) / (spanMs / 1000);
    log(`${s.name}: ${o.messages} delivered at ${deliveriesPerSecond.toFixed(0)}/s`);

    // Latency: open loop at a fixed rate, pushers running.
    const api2 = s.api(procs);
    const sentAt = new Map<string, number>();
    const lat = new Latencies();
    const before = rx.pushes.length;
    const total = o.rate * o.seconds;
    const t0 = monoMs();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - monoMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const tag = `latency ${i}`;
      sentAt.set(tag, performance.now());
      inflight.push(post(api2.url, sender, '/v1/messages', { to: 'Receiver', body: tag }).then(() => undefined));
    }
    await Promise.all(inflight);
    await rx.waitDelivered(o.messages + total, 60_000);
    for (const p of rx.pushes.slice(before)) {
      const start = sentAt.get(p.body.message.body);
      if (start !== undefined && p.attempt === 1) lat.add(p.at - start);
    }
    await Promise.all(procs.map((p) => p.stop()));
    return {
      setup: s.name,
      deliveriesPerSecond,
      backlog: o.messages,
      offeredRate: o.rate,
      sent: total,
      p50: lat.percentile(50),
      p99: lat.percentile(99),
      max: lat.percentile(100),
      badSignatures: rx.pushes.filter((p) => !p.verified).length,
    };
  } finally {
    await rx.close();
  }
}

async function main(): Promise<void> {
  const v = parseFlags(process.argv.slice(2), {
    messages: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const o = {
    messages: intOption('messages', v.messages, undefined, 5000, 10, 1_000_000),
    rate: intOption('rate', v.rate, undefined, 100, 1, 10_000),
    seconds: intOption('duration', v.duration, undefined, 10, 1, 600),
  };
  const pushers: Record<string, string> = v.concurrency === undefined ? {} : { SWARM_TARGETS_CONCURRENCY: String(intOption('concurrency', v.concurrency, undefined, 16, 1, 64)) };
  const log = (line: string): boolean => process.stderr.write(`bench targets: ${line}\n`);
  const watchdog = setTimeout(() => {
    log('did not finish within 20 min; giving up');
    process.exit(2);
  }, 1_200_000);
  const loadBefore = loadavg()[0] ?? NaN;
  const root = mkdtempSync(join(tmpdir(), 'swarm-bench-targets-'));
  if (!v.keep) process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const db = await openDatabase(log);
  log(`PostgreSQL ${db.version}: ${db.where}`);

  const embedded: Setup = {
    name: 'embedded hub (SQLite, synchronous=FULL), its own pusher',
    start: async (deliver) => {
      mkdirSync(join(root, 'embedded'), { recursive: true });
      return [await startHub({ dataDir: join(root, 'embedded'), synchronous: 'full', env: { SWARM_TARGETS_DELIVER: String(deliver), ...pushers } })];
    },
    api: (p) => p[0] as ServerProcess,
  };
  const onPostgres = (workers: number): Setup => {
    const schema = `bench_targets_${workers}`;
    dropped.push(db.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    const env = { ...UNLIMITED, ...pushers, SWARM_DATABASE: db.url, SWARM_DB_SCHEMA: schema, SWARM_LOG_LEVEL: 'warn', SWARM_HOST: '127.0.0.1' };
    return {
      name: `PostgreSQL: 1 api + ${workers} worker${workers === 1 ? '' : 's'}`,
      start: async (deliver) => {
        const dir = join(root, schema);
        for (const d of ['api', ...Array.from({ length: workers }, (_, i) => `w${i}`)]) mkdirSync(join(dir, d), { recursive: true });
        const api = await spawnServer([SWARM_BIN, 'serve', '--role', 'api', '--port', '0', '--data', join(dir, 'api')], env, root);
        const withToken = Object.assign(api, { adminToken: readFileSync(join(dir, 'api', 'admin.token'), 'utf8').trim() });
        if (!deliver) return [withToken];
        const ws = await Promise.all(Array.from({ length: workers }, (_, i) => spawnServer([SWARM_BIN, 'serve', '--role', 'worker', '--port', '0', '--data', join(dir, `w${i}`)], env, root)));
        return [withToken, ...ws];
      },
      api: (p) => p[0] as ServerProcess,
    };
  };
  const dropped: Promise<unknown>[] = [];
  const setups = [embedded, onPostgres(1), onPostgres(5)];
  await Promise.all(dropped);
  const results: Result[] = [];
  for (const s of setups) results.push(await measure(s, o, log));
  clearTimeout(watchdog);
  await db.admin.end();
  db.stop();
  await dispatcher.close();

  const m = machine();
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ machine: m, loadBefore, loadAfter: loadavg()[0], options: o, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`Webhook targets: ${o.messages} queued pushes drained; then ${o.rate}/s offered for ${o.seconds} s (open loop), send start -> push received\n`);
  process.stdout.write(`${m.cpus} × ${m.cpu}, node ${m.node}; load average (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? NaN).toFixed(2)} after\n\n`);
  process.stdout.write(
    table([
      ['set-up', 'deliveries/s', 'p50 ms', 'p99 ms', 'max ms', 'bad signatures'],
      ...results.map((r) => [r.setup, r.deliveriesPerSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1), String(r.badSignatures)]),
    ]),
  );
}

runMain(main);
