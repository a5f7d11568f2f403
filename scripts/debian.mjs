// Debian packages that tests and benchmarks run for real (PostgreSQL, PgBouncer), installed with
// apt-get when missing: at most once per package set and process, and waiting for the dpkg lock
// when another test file installs something at the same moment (npm test runs two at a time).
// The package index is refreshed only when an install fails without it (a fresh container has
// none), since `apt-get update` costs seconds to minutes.
import { spawnSync } from 'node:child_process';

/** Bound of one apt-get run, in ms. */
const APT_MS = 15 * 60_000;

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** Package set -> true (installed) or the Error of the failed attempt: it is not tried again. */
const attempts = new Map();
let updated = false;

function apt(args) {
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
    timeout: APT_MS,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0 ? null : `apt-get ${args.join(' ')} failed (${r.status ?? r.error?.message ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
}

/**
 * Installs `packages` (apt-get install --no-install-recommends), for `why` (named in the messages).
 * Throws an Error saying what failed; only root can install.
 */
export function installDebianPackages(packages, why) {
  const key = packages.join(' ');
  const prior = attempts.get(key);
  if (prior === true) return;
  if (prior instanceof Error) throw prior;
  try {
    if (!isRoot) throw new Error(`${why}: Debian's ${key} is not installed, and only root may install it (apt-get install ${key})`);
    process.stderr.write(`swarm: ${why}: installing Debian's ${key} (apt-get)…\n`);
    const install = ['install', '-y', '--no-install-recommends', ...packages];
    let failure = apt(install);
    if (failure !== null && !updated) {
      updated = true;
      failure = apt(['update']) ?? apt(install);
    }
    if (failure !== null) throw new Error(`${why}: ${failure}`);
    attempts.set(key, true);
  } catch (e) {
    attempts.set(key, e);
    throw e;
  }
}
