// A throwaway PgBouncer in transaction mode in front of a test's PostgreSQL: Debian's `pgbouncer`
// (installed when missing, debian.ts), its configuration and log in a temp dir, on a free port of
// 127.0.0.1, run in the foreground as the `postgres` OS user (it refuses to run as root). Trust
// authentication for the users of its auth file, as the throwaway cluster has. stop() ends it;
// so does the test process's exit.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { requireCommand } from './debian.js';
import { freePort } from './net.js';
import { tempDir } from './temp.js';

export interface PgBouncerOptions {
  /** The PostgreSQL server it pools connections to. */
  upstream: { host: string; port: number };
  /** Server connections per database and user (default_pool_size); also the database's cap. */
  poolSize: number;
  /** Client connections it accepts (max_client_conn). */
  maxClients: number;
  user?: string;
}

export interface PgBouncer {
  port: number;
  pid: number;
  /** A client URL for `database` through the bouncer. */
  url(database: string): string;
  /** A statement on the admin console (SHOW POOLS, SHOW STATS, …): simple protocol, one connection. */
  admin<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  output(): string;
  stop(): Promise<void>;
}

const START_MS = 10_000;
const STOP_MS = 5_000;

function osUser(name: string): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function reachable(port: number, user: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'pgbouncer', connectionTimeoutMillis: 1000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SHOW VERSION');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function startPgBouncer(o: PgBouncerOptions): Promise<PgBouncer> {
  const bin = await requireCommand('pgbouncer', 'pgbouncer', 'the PgBouncer test');
  const user = o.user ?? 'postgres';
  const owner = osUser('postgres');
  const dir = tempDir('swarm-pgbouncer-');
  if (owner !== null) chownSync(dir, owner.uid, owner.gid);
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    if (owner !== null) chownSync(p, owner.uid, owner.gid);
    return p;
  };
  // Trust still wants the user in the auth file.
  const authFile = file('userlist.txt', `"${user}" ""\n`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ini = file(
      'pgbouncer.ini',
      [
        '[databases]',
        `* = host=${o.upstream.host} port=${o.upstream.port}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${authFile}`,
        `admin_users = ${user}`,
        'pool_mode = transaction',
        `default_pool_size = ${o.poolSize}`,
        'min_pool_size = 0',
        'reserve_pool_size = 0',
        `max_db_connections = ${o.poolSize}`,
        `max_client_conn = ${o.maxClients}`,
        `pidfile = ${join(dir, 'pgbouncer.pid')}`,
        '',
      ].join('\n'),
    );
    const proc: ChildProcess = spawn(bin, [ini], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const kill = (): void => void proc.kill('SIGKILL');
    process.once('exit', kill);
    const deadline = Date.now() + START_MS;
    let up = false;
    while (!up && proc.exitCode === null && proc.signalCode === null && Date.now() < deadline) {
      up = await reachable(port, user);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) {
      kill();
      await exited;
      // Another process may have taken the port between the probe and the start.
      if (attempt < 3 && /Address already in use/.test(out)) continue;
      throw new Error(`pgbouncer did not start within ${START_MS} ms (exit ${proc.exitCode ?? proc.signalCode}):\n${out}`);
    }
    return {
      port,
      pid: proc.pid ?? 0,
      url: (database) => `postgres://${user}@127.0.0.1:${port}/${database}`,
      async admin<T>(sql: string): Promise<T[]> {
        const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'pgbouncer', connectionTimeoutMillis: 5000 });
        await c.connect();
        try {
          return (await c.query(sql)).rows as T[];
        } finally {
          await c.end();
        }
      },
      output: () => out,
      async stop() {
        process.off('exit', kill);
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        // SIGTERM: immediate shutdown (SIGINT would wait for the clients to finish).
        proc.kill('SIGTERM');
        const timer = setTimeout(kill, STOP_MS);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}
