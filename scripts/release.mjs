// The release artifact that deploy/ansible installs: one tarball with what `swarm serve` and the CLI
// need to run and nothing else (dist/src, dist/dashboard, bin/, package.json and the production node_modules).
//
//   node scripts/release.mjs [--out DIR]   -> DIR/swarm-<version>.tar.gz (default DIR: dist/release),
//                                             its path on stdout
//
// <version> is package.json's version and the commit (`0.1.0-g1a2b3c4`, `-dirty` when tracked files
// differ from it), so that two builds of different code never share a releases/ directory on a host.
// The node_modules are the ones installed here, copied (not installed again): better-sqlite3's
// native addon is the one compiled on this machine, so the tarball is for the platform it was made
// on (linux-x64 with glibc: Debian bookworm), which its name does not hide: the script refuses
// anything else.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

/** What of better-sqlite3 is needed at run time: its JavaScript and the compiled addon. */
const SQLITE_KEEP = ['package.json', 'LICENSE', 'lib', join('build', 'Release', 'better_sqlite3.node')];

function git(args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

export function releaseVersion() {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  return `${version}-g${git(['rev-parse', '--short=7', 'HEAD'])}${dirty ? '-dirty' : ''}`;
}

/** Directories of the production packages, relative to ROOT (nested ones too), from npm's own tree. */
function productionPackages() {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return out
    .split('\n')
    .filter((line) => line !== '' && line !== ROOT.replace(/\/$/, ''))
    .map((p) => relative(ROOT, p));
}

function copyPackage(rel, into) {
  const from = join(ROOT, rel);
  const keep = rel === join('node_modules', 'better-sqlite3') ? SQLITE_KEEP.map((k) => join(from, k)) : null;
  cpSync(from, join(into, rel), {
    recursive: true,
    filter: (src) => {
      // A package's own node_modules are copied as packages of their own, when they are production ones.
      if (src.startsWith(`${join(from, 'node_modules')}`)) return false;
      if (keep === null || src === from) return true;
      return keep.some((k) => k === src || k.startsWith(`${src}${sep}`) || src.startsWith(`${k}${sep}`));
    },
  });
}

export function makeRelease(outDir) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the release carries the native addons compiled here: made on linux-x64 only, not ${process.platform}-${process.arch}`);
  ensureInstalled();
  build();
  const version = releaseVersion();
  const name = `swarm-${version}`;
  const stage = join(tmpdir(), `swarm-release-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  const top = join(stage, name);
  try {
    mkdirSync(top, { recursive: true });
    cpSync(join(ROOT, 'dist', 'src'), join(top, 'dist', 'src'), { recursive: true });
    // The web dashboard the hub serves at / (docs/dashboard.md).
    cpSync(join(ROOT, 'dist', 'dashboard'), join(top, 'dist', 'dashboard'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(top, 'bin'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json', 'README.md']) cpSync(join(ROOT, f), join(top, f));
    for (const rel of productionPackages()) copyPackage(rel, top);
    // It runs: the CLI and the driver whose addon the tarball carries load from the staged tree.
    execFileSync(process.execPath, [join(top, 'bin', 'swarm.cjs'), '--version'], { cwd: stage, stdio: 'ignore' });
    execFileSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: top, stdio: 'inherit' });
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${name}.tar.gz`);
    // Owned by root in the archive, sorted, dated by the commit: the same tree makes the same listing.
    const mtime = `@${git(['log', '-1', '--format=%ct'])}`;
    execFileSync('tar', ['--sort=name', `--mtime=${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '-czf', file, '-C', stage, name]);
    return { file, version };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  if ((at !== -1 && args[at + 1] === undefined) || args.length !== (at === -1 ? 0 : 2)) {
    process.stderr.write('usage: node scripts/release.mjs [--out DIR]\n');
    process.exit(2);
  }
  try {
    const { file } = makeRelease(at === -1 ? join(ROOT, 'dist', 'release') : args[at + 1]);
    process.stdout.write(`${file}\n`);
  } catch (e) {
    process.stderr.write(`swarm: release: ${e.message}\n`);
    process.exit(1);
  }
}
