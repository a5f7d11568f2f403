// `npm test`: the whole suite from a fresh clone. Installs dependencies, builds (which typechecks),
// lints, then runs every test file with node's test runner against real SQLite files, a real
// PostgreSQL, real HTTP servers and real CLI processes.
//
// Two passes. The first runs every file with the hub on SQLite (SWARM_TEST_STORE=sqlite). The
// second runs the HTTP, stream, security, crash and shutdown files again with the hub on
// PostgreSQL (SWARM_TEST_STORE=postgres, read by test/support/store.ts); its test names start with
// [postgres]. SWARM_TEST_STORE set by the caller runs only that store's pass. The few files about
// timing under failure (ALONE below) run after the first pass, one at a time, with nothing beside them.
//
// PostgreSQL: SWARM_TEST_DATABASE_URL when it is set (used as it is: each test makes and drops its
// own schema there); otherwise a throwaway server started here (scripts/postgres.mjs) and removed
// when the tests end, also on failure, Ctrl-C or SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';
import { describeDatabase, startThrowawayPostgres } from './postgres.mjs';

ensureInstalled();
build({ force: true });

process.stderr.write('swarm: linting…\n');
execFileSync(process.execPath, [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings', '0', '.'], { cwd: ROOT, stdio: 'inherit' });

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

// Optional filter: `npm test -- e2e` runs only files whose path contains "e2e".
const filters = process.argv.slice(2);
const files = testFiles(join(ROOT, 'dist', 'test')).filter((f) => filters.length === 0 || filters.some((x) => relative(ROOT, f).includes(x)));

// The files whose hub runs on either store. revocation-multiprocess is left out: it is about
// several processes on one PostgreSQL already, in the first pass.
const BOTH_STORES = ['test/hub/retention.', 'test/http/', 'test/streams/', 'test/security/', 'test/chaos/crash.', 'test/hub/shutdown.', 'test/mcp/channel.', 'test/mcp/scenario.', 'test/mcp/http.', 'test/delivery/webhook-hub.', 'test/delivery/targets-api.'];
const POSTGRES_ALREADY = ['test/security/revocation-multiprocess.'];
const onBoth = (f) => {
  const rel = relative(join(ROOT, 'dist'), f);
  return BOTH_STORES.some((p) => rel.startsWith(p)) && !POSTGRES_ALREADY.some((p) => rel.startsWith(p));
};

const only = process.env.SWARM_TEST_STORE ?? '';
if (!['', 'sqlite', 'postgres'].includes(only)) {
  process.stderr.write(`swarm: SWARM_TEST_STORE must be sqlite or postgres, not ${JSON.stringify(only)}\n`);
  process.exit(1);
}
// Files whose assertions are about time under load (answered within a budget while processes are
// killed) run alone after the SQLite pass: beside the container and Ansible tests the machine was
// saturated, the load generator got 148/s of the 500/s it asked, and 99.71 % was answered within
// the budget where alone it is 99.9+ %. Everything else they check would hold either way.
const ALONE = ['test/scale/availability.'];
const alone = (f) => ALONE.some((p) => relative(join(ROOT, 'dist'), f).startsWith(p));
const passes = [
  { store: 'sqlite', files: files.filter((f) => !alone(f)), title: 'the hub on SQLite' },
  { store: 'sqlite', files: files.filter(alone), title: 'timing under failure, alone on the machine', concurrency: 1 },
  { store: 'postgres', files: files.filter(onBoth), title: 'HTTP, stream, security, crash, shutdown and MCP (channel, scenario, HTTP) files again, the hub on PostgreSQL' },
].filter((p) => (only === '' || p.store === only) && p.files.length > 0);
if (passes.length === 0) {
  process.stderr.write(`swarm: no test files match ${filters.join(' ')}${only === '' ? '' : ` on ${only}`}\n`);
  process.exit(1);
}

let stopPostgres = () => {};
process.on('exit', () => stopPostgres());

let databaseUrl = process.env.SWARM_TEST_DATABASE_URL ?? '';
try {
  if (databaseUrl === '') {
    const pg = await startThrowawayPostgres();
    stopPostgres = pg.stop;
    databaseUrl = pg.url;
    process.stderr.write(`swarm: PostgreSQL ${pg.version}: throwaway server on 127.0.0.1:${pg.port} (${pg.dir}), ready in ${(pg.ms / 1000).toFixed(1)} s\n`);
  } else {
    const db = await describeDatabase(databaseUrl);
    process.stderr.write(`swarm: PostgreSQL ${db.version}: ${db.where} from SWARM_TEST_DATABASE_URL\n`);
  }
} catch (e) {
  stopPostgres();
  process.stderr.write(`swarm: cannot provide PostgreSQL for the tests: ${e.message}\n`);
  process.exit(1);
}

let child = null;
// Ctrl-C reaches the test runner through the terminal; a signal sent to this process alone is
// passed on, and no further pass starts. Either way this process waits for the runner, then
// removes the server ('exit').
let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = signal;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

/** Runs one pass; resolves with its exit code. */
function run(pass) {
  process.stderr.write(`swarm: ${pass.store} pass: running ${pass.files.length} test files (${pass.title})…\n`);
  const reporter = pass.store === 'sqlite' ? 'spec' : join(ROOT, 'scripts', 'store-reporter.mjs');
  child = spawn(process.execPath, ['--test', `--test-reporter=${reporter}`, `--test-concurrency=${pass.concurrency ?? 2}`, ...pass.files], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NO_COLOR: '1', SWARM_TEST_DATABASE_URL: databaseUrl, SWARM_TEST_STORE: pass.store },
  });
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`swarm: cannot run the tests: ${e.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

const results = [];
for (const pass of passes) {
  if (interrupted !== null) break;
  const started = Date.now();
  results.push({ store: pass.store, alone: pass.concurrency === 1, code: await run(pass), seconds: (Date.now() - started) / 1000 });
}
for (const r of results) process.stderr.write(`swarm: ${r.store}${r.alone ? ' (alone)' : ''} pass ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(0)} s\n`);
const failed = results.find((r) => r.code !== 0);
process.exit(interrupted !== null ? 128 + (constants.signals[interrupted] ?? 0) : failed === undefined ? 0 : failed.code);
