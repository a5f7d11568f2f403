// The "old" Swarm of the rolling-upgrade test, built from git: the tag deploy/upgrade-from.json names
// (or the commit it records, when the clone lacks the tag; fetched from origin once when the clone
// lacks that too), extracted with `git archive`, built with its own scripts/build.mjs. It runs on
// this checkout's node_modules (a symlink) when its package-lock.json pins the same production and
// build dependencies, otherwise on its own `npm ci`. Built once per commit and kept under the
// system's temp directory: the build goes to a directory of its own, renamed into place when done,
// so a build that was interrupted is never taken for a finished one.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface OldVersion {
  tag: string;
  commit: string;
  /** How the commit was found: the tag, the recorded commit, or a fetch of it. */
  found: 'tag' | 'commit' | 'fetched';
  /** The built tree; `bin` is its bin/swarm.cjs. */
  dir: string;
  bin: string;
  /** This checkout's node_modules (identical pins), or the old version's own `npm ci`. */
  deps: 'linked' | 'npm ci';
  /** False when an earlier run had built it already. */
  built: boolean;
  /** What getting it ready took this time (the build, or only the checks when cached). */
  ms: number;
}

/** Only lint the old tree's code: the build (tsc over src, test and bench; esbuild) needs the rest. */
const LINT_ONLY = new Set(['eslint', '@eslint/js', 'typescript-eslint']);
const MARKER = '.swarm-old-version.json';
const BUILD_MS = 10 * 60_000;

function run(cmd: string, args: string[], cwd: string, timeout = BUILD_MS): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
}

function tail(r: SpawnSyncReturns<string>): string {
  return `${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n')}`;
}

function git(args: string[], timeout?: number, root = ROOT): SpawnSyncReturns<string> {
  return run('git', ['-C', root, ...args], root, timeout);
}

/** deploy/upgrade-from.json: the tag and the commit it stands for. */
export function upgradeFrom(): { tag: string; commit: string } {
  const file = join(ROOT, 'deploy', 'upgrade-from.json');
  const v = JSON.parse(readFileSync(file, 'utf8')) as { tag?: unknown; commit?: unknown };
  if (typeof v.tag !== 'string' || typeof v.commit !== 'string' || !/^[0-9a-f]{40}$/.test(v.commit)) {
    throw new Error(`${file}: needs "tag" (a string) and "commit" (a full 40-hex SHA)`);
  }
  return { tag: v.tag, commit: v.commit };
}

/**
 * The old version's commit: the tag, else the recorded commit, else that commit fetched from
 * origin; never a guess. `root`: the git checkout to look in (this one by default).
 */
export function resolveOldCommit(from = upgradeFrom(), root = ROOT): { tag: string; commit: string; found: OldVersion['found'] } {
  const { tag, commit } = from;
  const inRepo = git(['rev-parse', '--git-dir'], undefined, root);
  if (inRepo.status !== 0) throw new Error(`the rolling-upgrade test builds the old version (${tag}, ${commit}) from git, but ${root} is not a git checkout: ${tail(inRepo)}`);
  const byTag = git(['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], undefined, root);
  if (byTag.status === 0) {
    const sha = byTag.stdout.trim();
    if (sha !== commit) throw new Error(`tag ${tag} is commit ${sha}, but deploy/upgrade-from.json records ${commit}: make them agree`);
    return { tag, commit, found: 'tag' };
  }
  const has = (): boolean => git(['cat-file', '-e', `${commit}^{commit}`], undefined, root).status === 0;
  if (has()) return { tag, commit, found: 'commit' };
  const fetched = git(['fetch', '--no-tags', 'origin', commit], 120_000, root);
  if (fetched.status === 0 && has()) return { tag, commit, found: 'fetched' };
  throw new Error(
    `the old version is not in this clone: no tag ${tag}, no commit ${commit}, and \`git fetch origin ${commit}\` failed (${tail(fetched)}). ` +
      `Fetch the tag (git fetch origin tag ${tag}) or clone with full history to run the rolling-upgrade test`,
  );
}

type Lock = { packages?: Record<string, { version?: string; integrity?: string; resolved?: string; link?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string>; devDependencies?: Record<string, string> }> };

/** The lock entry a package at `from` gets for `name`, as Node resolves it: nearest node_modules up the tree. */
function resolveIn(packages: NonNullable<Lock['packages']>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const path = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[path] !== undefined) return path;
    if (base === '') return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/**
 * Packages the old version's build and runtime use (its dependencies and its devDependencies but
 * the linters, with everything they pull in) that the current lock pins differently or not at all.
 * Empty: this checkout's node_modules serves the old version as its own `npm ci` would.
 */
export function dependencyDifferences(oldLock: Lock, currentLock: Lock): string[] {
  const olds = oldLock.packages ?? {};
  const news = currentLock.packages ?? {};
  const root = olds[''] ?? {};
  const roots = [...Object.keys(root.dependencies ?? {}), ...Object.keys(root.devDependencies ?? {}).filter((n) => !LINT_ONLY.has(n))];
  const seen = new Set<string>();
  const queue: [string, string][] = roots.map((n) => ['', n]);
  const differ: string[] = [];
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    const path = resolveIn(olds, from, name);
    if (path === null || seen.has(path)) continue;
    seen.add(path);
    const o = olds[path]!;
    const n = news[path];
    if (n === undefined || n.version !== o.version || (n.integrity ?? n.resolved) !== (o.integrity ?? o.resolved)) differ.push(`${path}@${o.version ?? '?'}`);
    for (const dep of Object.keys({ ...o.dependencies, ...o.optionalDependencies, ...o.peerDependencies })) queue.push([path, dep]);
  }
  return differ;
}

/** Removes build directories of runs that died mid-build (their process is gone). */
function removeAbandoned(prefix: string): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${prefix}\\.build-(\\d+)-`).exec(name);
    if (m === null) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Points the cached tree's node_modules at this checkout's (atomically; it may be another checkout's). */
function linkModules(dir: string): void {
  const want = join(ROOT, 'node_modules');
  const link = join(dir, 'node_modules');
  let now: string | null = null;
  try {
    now = readlinkSync(link);
  } catch {
    now = null;
  }
  if (now === want) return;
  const temp = `${link}.${process.pid}-${randomBytes(4).toString('hex')}`;
  symlinkSync(want, temp, 'dir');
  renameSync(temp, link);
}

/** The old version, built (or found built) and ready to run. Throws, with the cause, when it cannot be had. */
export function oldVersion(): OldVersion {
  const t0 = Date.now();
  const { tag, commit, found } = resolveOldCommit();
  const lockText = git(['show', `${commit}:package-lock.json`]);
  if (lockText.status !== 0) throw new Error(`cannot read package-lock.json of ${commit}: ${tail(lockText)}`);
  const differ = dependencyDifferences(JSON.parse(lockText.stdout) as Lock, JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock);
  const deps: OldVersion['deps'] = differ.length === 0 ? 'linked' : 'npm ci';
  const prefix = `swarm-old-${commit.slice(0, 12)}-${deps === 'linked' ? 'linked' : 'ci'}`;
  const dir = join(tmpdir(), prefix);
  const bin = join(dir, 'bin', 'swarm.cjs');
  const done = (built: boolean): OldVersion => ({ tag, commit, found, dir, bin, deps, built, ms: Date.now() - t0 });

  if (existsSync(join(dir, MARKER))) {
    if (deps === 'linked') linkModules(dir);
    return done(false);
  }
  // A directory without the marker is not one this code renamed into place: not to be trusted.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  removeAbandoned(prefix);

  const work = join(tmpdir(), `${prefix}.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const tar = `${work}.tar`;
    const archived = git(['archive', '--format=tar', '-o', tar, commit]);
    if (archived.status !== 0) throw new Error(`git archive ${commit}: ${tail(archived)}`);
    mkdirSync(work);
    const extracted = run('tar', ['-xf', tar, '-C', work], tmpdir());
    rmSync(tar, { force: true });
    if (extracted.status !== 0) throw new Error(`tar -x: ${tail(extracted)}`);
    if (deps === 'linked') {
      symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    } else {
      process.stderr.write(`rolling upgrade: the old version's lock pins ${differ.length} packages differently (${differ.slice(0, 5).join(', ')}…): npm ci there\n`);
      const ci = run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], work);
      if (ci.status !== 0) throw new Error(`npm ci for the old version (${commit}): ${tail(ci)}`);
    }
    const build = run(process.execPath, [join(work, 'scripts', 'build.mjs')], work);
    if (build.status !== 0) throw new Error(`the old version's scripts/build.mjs (${commit}): ${tail(build)}`);
    writeFileSync(join(work, MARKER), `${JSON.stringify({ tag, commit, deps, builtAt: new Date().toISOString(), buildMs: Date.now() - t0 })}\n`);
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another test process finished the same build first: its tree is as good as this one.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(join(dir, MARKER))) throw e;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  return done(true);
}
