// `npm run bench -- --only peers`: Swarm side by side with the brokers a user would pick instead,
// RabbitMQ, NATS JetStream and Redis Streams, all on this machine, measured in one run. Each round
// runs every case on every system, the systems' order rotating from round to round so that the
// machine's noise hits them alike; the tables report medians of the rounds, each figure with what
// the system's acknowledgement meant (its durability) beside it. The brokers are the machine's
// own services (a fresh machine may not have them: each one not reachable is skipped, loudly); the
// Swarm hubs are started here. Queues, streams and keys are named after the run and deleted.
import { loadavg } from 'node:os';
import { intOption, machine, parseFlags, runMain, UsageError } from '../report.js';
import { caseTable, memoryTable, Results } from './output.js';
import { NatsDriver, NATS_URL } from './nats.js';
import { RABBIT_URL, RabbitDriver } from './rabbit.js';
import { REDIS_HOST, REDIS_PORT, RedisDriver } from './redis.js';
import { SwarmDriver } from './swarm.js';
import { CASES, type CaseName, type CaseOptions, type Driver, type MemoryRow, SYSTEMS, type SystemName } from './system.js';

const HELP = `npm run bench -- --only peers [flags]

Swarm beside RabbitMQ (quorum queues, publisher confirms), NATS JetStream (file storage) and Redis
Streams (memory only), the same work on each, in one run. Every round runs each case on every
system, in an order that rotates from round to round; the tables give medians of the rounds, the
server's CPU over the measured window (% of one core, from /proc), and each system's durability.
Bodies are 256 bytes. A broker that does not answer is skipped with a loud line; start it with the
command that line gives (Debian: apt-get install rabbitmq-server nats-server redis-server).

Cases (--only-cases):
  publish         durable publish with acknowledgement, closed loop, 50 and 256 in flight: Swarm over
                  HTTP (autocannon, one request per connection) and WebSocket (one socket per send in
                  flight), the bare Fastify route as the HTTP baseline; the brokers over up to
                  --peer-connections connections; latency from the publish call to its ack
  one-connection  one connection with 50 publishes in flight: Swarm one WebSocket with 50 send
                  frames outstanding, RabbitMQ one confirm channel, NATS and Redis one connection
  consume         pre-load --messages, then drain them with acks, batched and one per message
                  (JetStream: AckPolicy.All for batched; Redis: XACK with many ids)
  e2e             open loop at --rate publishes/s started on the clock; latency from the publish
                  call's start to receipt by one consumer; the server's CPU over the window
  fanout          each publish to --consumers consumers (Swarm: to "all", one WebSocket each)
  memory          each server's resident set at the end (Swarm: also idle, and peak)

Flags:
  --duration S          measured seconds per case, system and round (BENCH_DURATION, default 10)
  --warmup S            unmeasured seconds before each (BENCH_WARMUP, default 2)
  --runs N              rounds; medians reported (BENCH_RUNS, default 3)
  --only-systems LIST   comma-separated, of ${SYSTEMS.join(', ')} (default all)
  --only-cases LIST     comma-separated, of ${CASES.join(', ')} (default all)
  --in-flight LIST      publishes in flight for the publish case (default 50,256)
  --peer-connections N  most broker connections the publish case spreads its in-flight over (default 8)
  --messages N          messages pre-loaded and drained by the consume case (default 100000)
  --prefetch N          consume case: deliveries a consumer holds unacknowledged (default 500)
  --ack-batch N         consume case, batched: ids per ack (default 100, at most --prefetch)
  --rate N              e2e case: publishes per second offered (default 2000)
  --consumers N         fanout case: consumers (default 100)
  --window N            fanout case: most publishes out, not yet received by every consumer (default 20)
  --budget S            most seconds a pre-load or a drain may take (default 180)
  --keep                keep the Swarm hubs' data directories
  --cpu-prof DIR        run the Swarm hubs under node --cpu-prof: one profile per thread (event loop,
                        SQLite writer, WAL checkpointer) written to DIR when a hub stops; read them
                        with node dist/bench/flame.js
  --json                machine-readable results on stdout instead of the tables
  --help                this text

Services (override with BENCH_RABBITMQ_URL, BENCH_NATS_URL, BENCH_REDIS_HOST/PORT):
  RabbitMQ ${RABBIT_URL}, NATS ${NATS_URL} (with -js), Redis ${REDIS_HOST}:${REDIS_PORT}
Swarm's e2e sends go over BENCH_PEERS_E2E_SOCKETS WebSockets (default 1, like the brokers' one
connection: the hub pipelines one socket's send frames).
`;

/** How to bring up a service that did not answer (the commands this machine kind starts them with). */
const START_HINTS: Record<Exclude<SystemName, 'swarm'>, string> = {
  rabbitmq: 'apt-get install rabbitmq-server; rabbitmq-server -detached',
  nats: 'apt-get install nats-server; start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server',
  redis: 'apt-get install redis-server; redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
};
const WHERE: Record<SystemName, string> = { swarm: 'a hub started here', rabbitmq: RABBIT_URL, nats: NATS_URL, redis: `${REDIS_HOST}:${REDIS_PORT}` };

function list<T extends string>(name: string, raw: string | undefined, all: readonly T[]): T[] {
  if (raw === undefined) return [...all];
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!all.includes(i as T)) throw new UsageError(`--${name}: ${i} is not one of ${all.join(', ')}`);
  return all.filter((a) => items.includes(a));
}

function settings(argv: string[]): { o: Omit<CaseOptions, 'round' | 'log'>; systems: SystemName[]; cases: CaseName[]; runs: number; peerConnections: number; keep: boolean; cpuProfDir: string | undefined; json: boolean } {
  const v = parseFlags(argv, {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    'only-systems': { type: 'string' },
    'only-cases': { type: 'string' },
    'in-flight': { type: 'string' },
    'peer-connections': { type: 'string' },
    messages: { type: 'string' },
    prefetch: { type: 'string' },
    'ack-batch': { type: 'string' },
    rate: { type: 'string' },
    consumers: { type: 'string' },
    window: { type: 'string' },
    budget: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const inFlight = (v['in-flight'] ?? '50,256').split(',').map((s) => intOption('in-flight', s.trim(), undefined, 50, 1, 1000));
  const prefetch = intOption('prefetch', v.prefetch, undefined, 500, 1, 10_000);
  const ackBatch = intOption('ack-batch', v['ack-batch'], undefined, 100, 1, 1000);
  if (ackBatch > prefetch) throw new UsageError(`--ack-batch (${ackBatch}) must not exceed --prefetch (${prefetch}): a consumer would wait for messages it cannot get`);
  const peerConnections = intOption('peer-connections', v['peer-connections'], undefined, 8, 1, 256);
  return {
    o: {
      runId: `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`,
      durationS: intOption('duration', v.duration, process.env.BENCH_DURATION, 10, 1, 600),
      warmupS: intOption('warmup', v.warmup, process.env.BENCH_WARMUP, 2, 0, 60),
      inFlight,
      oneConnection: 50,
      messages: intOption('messages', v.messages, undefined, 100_000, 1, 10_000_000),
      prefetch,
      ackBatch,
      rate: intOption('rate', v.rate, undefined, 2000, 1, 100_000),
      consumers: intOption('consumers', v.consumers, undefined, 100, 1, 1000),
      window: intOption('window', v.window, undefined, 20, 1, 1000),
      budgetS: intOption('budget', v.budget, undefined, 180, 5, 3600),
    },
    systems: list('only-systems', v['only-systems'], SYSTEMS),
    cases: list('only-cases', v['only-cases'], CASES),
    runs: intOption('runs', v.runs, process.env.BENCH_RUNS, 3, 1, 20),
    peerConnections,
    keep: v.keep,
    cpuProfDir: v['cpu-prof'],
    json: v.json,
  };
}

function driverFor(system: SystemName, s: ReturnType<typeof settings>): Driver {
  switch (system) {
    case 'swarm':
      return new SwarmDriver(s.keep, s.cpuProfDir);
    case 'rabbitmq':
      return new RabbitDriver(s.peerConnections);
    case 'nats':
      return new NatsDriver(s.peerConnections);
    case 'redis':
      return new RedisDriver(s.peerConnections);
  }
}

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  const log = (line: string): boolean => process.stderr.write(`bench peers: ${line}\n`);
  const loadBefore = loadavg()[0] ?? NaN;
  // Every loop is bounded by its own clock and count; this bounds the whole run on top.
  const perRoundS = 40 * (s.o.durationS + s.o.warmupS + 15) + (s.cases.includes('consume') ? 8 * 2 * s.o.budgetS : 0);
  const budgetS = s.runs * perRoundS + 300;
  const watchdog = setTimeout(() => {
    log(`did not finish within ${budgetS} s; giving up`);
    process.exit(2);
  }, budgetS * 1000);

  const drivers: Driver[] = [];
  const skipped: { system: SystemName; reason: string }[] = [];
  for (const system of s.systems) {
    const d = driverFor(system, s);
    try {
      await d.open();
      drivers.push(d);
    } catch (e) {
      await d.close().catch(() => undefined);
      const reason = `not reachable at ${WHERE[system]}: ${e instanceof Error ? e.message : String(e)}`;
      skipped.push({ system, reason });
      log(`\n\n*** skipped: ${system} ${reason}${system === 'swarm' ? '' : `\n*** to run it: ${START_HINTS[system]}`} ***\n`);
    }
  }
  log(`run ${s.o.runId}: ${drivers.map((d) => d.system).join(', ')}; ${s.runs} round(s) of ${s.cases.join(', ')}; ${s.o.warmupS} s warm-up + ${s.o.durationS} s each`);

  const results = new Results();
  const failures: string[] = [];
  let memory: { system: SystemName; memory: MemoryRow }[] = [];
  try {
    for (let round = 0; round < s.runs; round++) {
      for (const c of s.cases) {
        if (c === 'memory') continue;
        // Rotating the order: a system is not always the one that runs right after Swarm's hub was busy.
        const order = drivers.map((_, i) => drivers[(i + round) % drivers.length] as Driver);
        for (const d of order) {
          const o: CaseOptions = { ...s.o, round, log };
          try {
            const rows = await d.run(c, o);
            results.add(c, d.system, rows);
            for (const r of rows) log(`round ${round + 1}/${s.runs} ${c} ${d.system}: ${r.variant}: ${r.m.rate.toFixed(0)}/s, p50 ${r.m.p50.toFixed(2)} ms, p99 ${r.m.p99.toFixed(2)} ms, server CPU ${r.m.cpuPct.toFixed(0)} %${r.m.errors > 0 ? `, ${r.m.errors} ERRORS: ${r.m.firstError ?? ''}` : ''}`);
          } catch (e) {
            const line = `round ${round + 1} ${c} ${d.system} FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
            failures.push(line);
            log(line);
          }
        }
      }
    }
  } finally {
    // Memory is read before anything closes: the hubs' figures are those of hubs that did the work.
    memory = drivers.flatMap((d) => d.memory().map((m) => ({ system: d.system, memory: m })));
    for (const d of drivers) await d.close().catch((e: unknown) => log(`closing ${d.system}: ${String(e)}`));
  }
  clearTimeout(watchdog);

  const systems = drivers.map((d) => d.system);
  const cases = s.cases.filter((c): c is Exclude<CaseName, 'memory'> => c !== 'memory');
  const m = machine();
  if (s.json) {
    const out = {
      benchmark: 'peers',
      date: new Date().toISOString(),
      machine: m,
      loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
      settings: { ...s.o, runs: s.runs, peerConnections: s.peerConnections, bodyBytes: 256 },
      skipped,
      cases: Object.fromEntries(cases.map((c) => [c, results.summaries(c, systems)])),
      memory: s.cases.includes('memory') ? memory : [],
      failures,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const o = s.o;
    process.stdout.write(
      [
        `## Peers benchmark: ${systems.join(', ')}; 256-byte bodies; ${s.runs} round(s) of ${o.warmupS} s warm-up + ${o.durationS} s per case and system, medians`,
        '',
        `${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, node ${m.node}, Linux ${m.kernel}; load average (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? NaN).toFixed(2)} after`,
        `publish: ${o.inFlight.join(' and ')} in flight, brokers over up to ${s.peerConnections} connections; consume: ${o.messages} messages, prefetch ${o.prefetch}, batched acks of ${o.ackBatch}; e2e: ${o.rate}/s offered; fan-out: ${o.consumers} consumers, ${o.window} publishes out`,
        ...skipped.map((k) => `**skipped: ${k.system} ${k.reason}**`),
        '',
        ...cases.flatMap((c) => [caseTable(c, results.summaries(c, systems)), '']),
        ...(s.cases.includes('memory') ? [memoryTable(memory), ''] : []),
        ...failures.map((f) => `FAILED: ${f.split('\n')[0] ?? ''}`),
        '',
      ].join('\n'),
    );
  }
  if (failures.length > 0) process.exitCode = 1;
}

runMain(main);
