// `npm test`: the whole suite from a fresh clone. Installs dependencies, builds (which typechecks),
// lints, then runs every test file with node's test runner against real SQLite files, real HTTP
// servers and real CLI processes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

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
process.stderr.write(`swarm: running ${files.length} test files…\n`);
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, NO_COLOR: '1' },
});
process.exit(r.status ?? 1);
