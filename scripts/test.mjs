// `npm test`: the whole suite from a fresh clone. Installs dependencies, builds (which typechecks),
// lints, then runs every test file with node's test runner against real SQLite files, a real
// PostgreSQL, real HTTP servers and real CLI processes.
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
if (files.length === 0) {
  process.stderr.write(`swarm: no test files match ${filters.join(' ')}\n`);
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

process.stderr.write(`swarm: running ${files.length} test files…\n`);
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, NO_COLOR: '1', SWARM_TEST_DATABASE_URL: databaseUrl },
});
// Ctrl-C reaches the test runner through the terminal; a signal sent to this process alone is
// passed on. Either way this process waits for the runner, then removes the server ('exit').
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('error', (e) => {
  process.stderr.write(`swarm: cannot run the tests: ${e.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
