// `npm run bench`: the benchmarks (not tests). Installs and builds like `npm test`, then runs the
// compiled benchmarks one after another: send (HTTP sends, hub beside a bare Fastify route),
// latency (end-to-end at a fixed 2,000 sends/s), fanout (broadcasts to 100 WebSocket consumers),
// postgres (the send load against 1, 2 and 3 `--role api` processes on PostgreSQL, beside the
// embedded SQLite hub), channel (the MCP channel push: send answered -> `notifications/claude/channel`
// received over stdio, 200 messages), cli (the CLI's start-up as whole processes beside `node -e 0`),
// targets (webhook delivery targets: the embedded hub, and 1 and 5 workers on PostgreSQL),
// retention (sends while retention removes messages from a store of 1,000,000, beside none),
// memory (the hub's RSS and WAL while it stores 1,000,000 messages to one recipient, then acks half),
// peers (Swarm beside RabbitMQ, NATS JetStream and Redis Streams on this machine, bench/peers/; a
// broker that does not answer is skipped with a loud line).
// `npm run bench -- --only send|latency|fanout|postgres|channel|cli|targets|retention|memory|peers [flags]` runs one
// and passes every flag through; without --only, only the flags all of them share are taken (plus
// --connections, for send and postgres): the others mean different things to different benchmarks
// (--agents is 8 for latency, 100 for fanout), so they need --only. Without --only, postgres runs
// and targets run only when a PostgreSQL is at hand: SWARM_BENCH_DATABASE_URL, or server binaries under
// /usr/lib/postgresql for a throwaway cluster (with --only postgres they are installed if missing,
// as `npm test` does). Exit code: the first non-zero of the benchmarks.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

const BENCHMARKS = ['send', 'latency', 'fanout', 'postgres', 'channel', 'cli', 'targets', 'retention', 'memory', 'peers'];
/** Benchmarks whose entry point is not dist/bench/NAME.js. */
const ENTRY = { peers: join('peers', 'peers.js') };
const COMMON = ['--duration', '--warmup', '--runs', '--synchronous', '--cpu-prof', '--batch-stats', '--keep', '--json', '--help'];
const BOOLEAN = new Set(['--batch-stats', '--keep', '--json', '--help']);
/** Without --only: the flags each benchmark is given. */
const SHARED = {
  send: [...COMMON, '--connections'],
  latency: COMMON,
  fanout: COMMON,
  postgres: ['--duration', '--warmup', '--runs', '--synchronous', '--keep', '--json', '--help', '--connections'],
  channel: ['--keep', '--json', '--help'],
  // --runs and --warmup count rounds of whole processes there (at least 5): given with --only cli.
  cli: ['--keep', '--json', '--help'],
  targets: ['--duration', '--keep', '--json', '--help'],
  retention: ['--duration', '--runs', '--keep', '--json', '--help'],
  memory: ['--keep', '--json', '--help'],
  peers: ['--duration', '--warmup', '--runs', '--cpu-prof', '--keep', '--json', '--help'],
};

/** A PostgreSQL the postgres benchmark can use without installing anything. */
function postgresAvailable() {
  if (process.env.SWARM_BENCH_DATABASE_URL) return true;
  const base = '/usr/lib/postgresql';
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, 'bin', 'initdb')));
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
let only = null;
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--only' || a.startsWith('--only=')) {
    only = a === '--only' ? args[++i] : a.slice('--only='.length);
    if (!BENCHMARKS.includes(only)) fail(`--only must be one of ${BENCHMARKS.join(', ')}, got ${only}`);
  } else rest.push(a);
}

/** The flags of `rest` that `name` takes (with their values); all of them for --only. */
function flagsFor(name) {
  if (only !== null) return rest;
  const out = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const flag = a.split('=')[0];
    const takesValue = !BOOLEAN.has(flag) && !a.includes('=');
    if (!SHARED.send.includes(flag)) fail(`${a}: without --only, only ${SHARED.send.join(' ')} are taken (npm run bench -- --only NAME --help)`);
    if (SHARED[name].includes(flag)) out.push(...(takesValue ? [a, rest[i + 1]] : [a]));
    if (takesValue) i += 1;
  }
  return out;
}

let names = only === null ? BENCHMARKS : [only];
if (only === null && !postgresAvailable()) {
  process.stderr.write('bench: skipping postgres and targets: no SWARM_BENCH_DATABASE_URL and no server under /usr/lib/postgresql (npm run bench -- --only postgres installs one)\n');
  names = names.filter((n) => n !== 'postgres' && n !== 'targets');
}
const plan = names.map((name) => ({ name, flags: flagsFor(name) }));
ensureInstalled();
build();

let code = 0;
for (const { name, flags } of plan) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', ENTRY[name] ?? `${name}.js`), ...flags], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const status = r.status ?? 1;
  if (status !== 0 && code === 0) code = status;
  if (only === null) process.stdout.write('\n');
}
process.exit(code);
