// A throwaway PostgreSQL for `npm test`: the store conformance suite runs against a real server in
// every run (STYLE.md, "One behaviour suite, every adapter"). Finds the server binaries (installs
// Debian's package when they are missing), creates a cluster in a temp dir owned by the `postgres`
// OS user (initdb refuses root), starts it on a free port of 127.0.0.1 with a private socket dir,
// creates a database and hands back its URL. stop() removes everything; a cluster left behind by a
// run that was killed outright is stopped and removed by the next run.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installDebianPackages } from './debian.mjs';

const PREFIX = 'swarm-pg-';
const OWNER_FILE = 'owner.pid';
/** Bounds of every wait, in ms. */
const START_S = 60;
const STEP_MS = 120_000;

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function versionOf(dir) {
  return Number(/\/postgresql\/(\d+)\//.exec(dir)?.[1] ?? 0);
}

/** The newest Debian-layout server install: /usr/lib/postgresql/<major>/bin. */
function findBinaries() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const dirs = readdirSync(base)
    .map((v) => join(base, v, 'bin'))
    .filter((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')))
    .sort((a, b) => versionOf(b) - versionOf(a));
  return dirs[0] ?? null;
}

function run(cmd, args, { timeout = STEP_MS, asPostgres = false, quiet = true } = {}) {
  const [file, argv] = asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { timeout, encoding: 'utf8', stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  if (r.error) throw new Error(`${cmd} failed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${(r.stderr ?? '').trim()}`);
  return r.stdout ?? '';
}

function install() {
  if (!isRoot) {
    throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: install PostgreSQL, or set SWARM_TEST_DATABASE_URL to a database the tests may use');
  }
  const why = 'PostgreSQL server not found';
  try {
    installDebianPackages(['postgresql', 'postgresql-contrib'], why);
  } catch {
    // postgresql-contrib is a virtual package on newer Debian releases (contrib ships with the server).
    installDebianPackages(['postgresql'], why);
  }
  const bin = findBinaries();
  if (bin === null) throw new Error('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql');
  return bin;
}

/** initdb refuses to run as root: the cluster belongs to the `postgres` OS user. */
function postgresUser() {
  if (!isRoot) return null;
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Clusters of earlier runs whose test runner is gone (killed with -9): stop them, remove them. */
function reapOrphans(bin) {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours, or still being set up
    }
    if (owner > 0 && alive(owner)) continue;
    stopCluster(bin, dir);
  }
}

function stopCluster(bin, dir) {
  const data = join(dir, 'data');
  if (existsSync(join(data, 'postmaster.pid'))) {
    try {
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], { asPostgres: true, timeout: 30_000 });
    } catch {
      // Already stopped (a Ctrl-C reaches the server too): nothing to do.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** pg_ctl without blocking the event loop: a test keeps its load running while the server stops. */
function runAsync(cmd, args, timeout) {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } }, (e, _out, err) => {
      if (e) reject(new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${String(err).trim()}`));
      else resolve();
    });
  });
}

/**
 * Starts a throwaway cluster. Returns { url, version, port, dir, stop, stopServer, startServer }.
 * stop() is synchronous and idempotent, so it can run from an 'exit' handler; it removes the
 * cluster. stopServer(mode) (pg_ctl stop -m fast|immediate|smart) and startServer() stop and start
 * the same cluster on the same port, for tests of a database outage. `durable: true` keeps
 * PostgreSQL's production defaults (fsync, synchronous_commit and full_page_writes on), as
 * benchmarks and crash tests need; otherwise nothing is synced (throwaway data for functional tests).
 */
export async function startThrowawayPostgres({ durable = false, maxConnections = 300 } = {}) {
  const started = Date.now();
  const bin = findBinaries() ?? install();
  const owner = postgresUser();
  reapOrphans(bin);

  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (owner !== null) for (const p of [dir, sock]) chownSync(p, owner.uid, owner.gid);
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopCluster(bin, dir);
  };

  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', ...(durable ? [] : ['--no-sync'])], { asPostgres: true });
    let port = 0;
    let opts = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      opts = [
        `-p ${port}`,
        `-k ${sock}`,
        '-c listen_addresses=127.0.0.1',
        ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
        `-c max_connections=${maxConnections}`,
      ].join(' ');
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', String(START_S), '-o', opts, 'start'], { asPostgres: true, timeout: (START_S + 10) * 1000 });
        break;
      } catch (e) {
        // Another process may have taken the port between the probe and the start.
        if (attempt >= 3) throw new Error(`${e.message}\n${readLog(dir)}`);
      }
    }
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 10_000 });
    await admin.connect();
    let version;
    try {
      version = (await admin.query('SHOW server_version')).rows[0].server_version;
      await admin.query('CREATE DATABASE swarm_test');
    } finally {
      await admin.end();
    }
    const pgCtl = (...args) => runAsync(join(bin, 'pg_ctl'), ['-D', data, ...args], (START_S + 10) * 1000);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/swarm_test`,
      version,
      port,
      dir,
      stop,
      ms: Date.now() - started,
      stopServer: (mode = 'fast') => pgCtl('-m', mode, '-w', '-t', String(START_S), 'stop'),
      startServer: () => pgCtl('-l', join(dir, 'server.log'), '-w', '-t', String(START_S), '-o', opts, 'start'),
    };
  } catch (e) {
    stop();
    throw e;
  }
}

function readLog(dir) {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** Version, host and port of a database given by URL (never its password), for the log line. */
export async function describeDatabase(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const version = (await client.query('SHOW server_version')).rows[0].server_version;
    const u = new URL(url);
    return { version, where: `${u.hostname}:${u.port || 5432}${u.pathname}` };
  } finally {
    await client.end();
  }
}
