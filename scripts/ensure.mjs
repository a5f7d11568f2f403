// Shared by `npm start`, `npm test` and `npm run bench`: install dependencies from the lockfile when
// they are missing or stale, and build when the sources are newer than dist/. A fresh clone needs
// nothing run before these.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;
const BUILD_STAMP = join(ROOT, 'dist', '.build-stamp');

/** Packages of package-lock.json missing from node_modules, or there at another version. */
function missingPackages() {
  const installedFile = join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(installedFile)) return ['(nothing installed)'];
  const want = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(installedFile, 'utf8')).packages ?? {};
  return Object.entries(want)
    // The directory too: npm's record can list a package that is gone (a copy of node_modules made
    // with hard links shares that record with another install).
    .filter(([path, p]) => path !== '' && !p.optional && (have[path]?.version !== p.version || !existsSync(join(ROOT, path, 'package.json'))))
    .map(([path]) => path);
}

export function ensureInstalled() {
  const missing = missingPackages();
  if (missing.length === 0 && existsSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) return;
  process.stderr.write('swarm: installing dependencies from package-lock.json (the first run compiles better-sqlite3, about a minute)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The newest modification time of the files under dir (only those `keep` accepts). */
function newest(dir, keep = () => true) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p, keep) : keep(name) ? s.mtimeMs : 0);
  }
  return t;
}

export function sourcesNewerThanBuild() {
  if (!existsSync(BUILD_STAMP)) return true;
  const built = statSync(BUILD_STAMP).mtimeMs;
  const inputs = ['src', 'test', 'bench'].filter((d) => existsSync(join(ROOT, d))).map((d) => newest(join(ROOT, d)));
  // deploy/ holds TypeScript (the Kubernetes definitions) beside the YAML rendered from it.
  inputs.push(newest(join(ROOT, 'deploy'), (name) => name.endsWith('.ts')));
  inputs.push(statSync(join(ROOT, 'tsconfig.json')).mtimeMs, statSync(join(ROOT, 'package-lock.json')).mtimeMs);
  return Math.max(...inputs) > built;
}

export function build({ force = false } = {}) {
  if (!force && !sourcesNewerThanBuild()) return;
  process.stderr.write('swarm: building…\n');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
}
