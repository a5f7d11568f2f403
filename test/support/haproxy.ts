// A real load balancer in front of several hub processes, as docs/deployment.md puts one: Debian's
// haproxy, round robin, health checks on GET /readyz every 200 ms, so a dead or unready process
// leaves the rotation within about half a second. The config is generated into a temp dir; the
// server states are read from haproxy's stats socket. haproxy is installed with apt-get when it is
// missing (support/debian.ts, as the other Debian peers); a machine where that fails fails the
// test, it does not skip it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireCommand } from './debian.js';
import { freePort } from './net.js';

/** The haproxy binary; installs Debian's package when it is missing (once per test process). */
export function ensureHaproxy(): Promise<string> {
  return requireCommand('haproxy', 'haproxy', 'the haproxy tests');
}

export interface Balancer {
  url: string;
  /** Each server's state as haproxy sees it: UP, DOWN, NOLB, MAINT, or with a transition (e.g. "UP 1/2"). */
  states(): Promise<Map<string, string>>;
  /** The backend's counters by their `show stat` names (wretr: retries, wredis: redispatches, hrsp_5xx…). */
  backendStats(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export interface BalancerOptions {
  /**
   * haproxy's `retry-on` (L7 retries, on another server with `option redispatch`): e.g.
   * `conn-failure empty-response response-timeout 502 503 504`. Default: haproxy's own
   * (`conn-failure`: only a connection that could not be made is tried again).
   */
  retryOn?: string;
}

function config(port: number, socket: string, servers: { name: string; port: number }[], o: BalancerOptions): string {
  return [
    'global',
    '  maxconn 4096',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 60s',
    '  timeout server 60s',
    // WebSocket and SSE streams: the hub sends a heartbeat, so idle means dead.
    '  timeout tunnel 60s',
    '  timeout http-keep-alive 10s',
    '  timeout queue 2s',
    // A check's own timeout (it is `inter` when unset): a busy process answering /readyz in 300 ms
    // is slow, not dead. A dead one refuses the connection at once.
    '  timeout check 2s',
    // A refused connection (a process that just died) is tried again on another server.
    '  retries 2',
    '  option redispatch 1',
    ...(o.retryOn === undefined ? [] : [`  retry-on ${o.retryOn}`]),
    'frontend hub',
    `  bind 127.0.0.1:${port}`,
    '  default_backend apis',
    'backend apis',
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /readyz ver HTTP/1.1 hdr host hub',
    '  http-check expect status 200',
    '  default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
    '',
  ].join('\n');
}

/** Starts haproxy in the foreground on a free port of 127.0.0.1; resolves once it accepts connections. */
export async function startHaproxy(dir: string, servers: { name: string; port: number }[], o: BalancerOptions = {}): Promise<Balancer> {
  const bin = await ensureHaproxy();
  const port = await freePort();
  const socket = join(dir, 'haproxy.sock');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config(port, socket, servers, o));
  const check = spawnSync(bin, ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its config:\n${check.stdout}${check.stderr}`);
  const proc: ChildProcess = spawn(bin, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`haproxy did not start:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    states: async () => {
      const csv = await statsCommand(socket, 'show stat');
      const out = new Map<string, string>();
      for (const line of csv.split('\n')) {
        const f = line.split(',');
        // pxname,svname,…,status is the 18th column.
        if (f[0] === 'apis' && f[1] !== undefined && f[1] !== 'BACKEND' && f[1] !== 'FRONTEND') out.set(f[1], f[17] ?? '');
      }
      return out;
    },
    backendStats: async () => {
      const [header = '', ...lines] = (await statsCommand(socket, 'show stat')).split('\n');
      const names = header.replace(/^# /, '').split(',');
      const row = lines.map((l) => l.split(',')).find((f) => f[0] === 'apis' && f[1] === 'BACKEND') ?? [];
      return Object.fromEntries(names.map((n, i) => [n, row[i] ?? '']));
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function statsCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.setTimeout(2000, () => s.destroy(new Error('haproxy stats socket did not answer within 2 s')));
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.once('end', () => resolve(out));
    s.once('error', reject);
    s.write(`${command}\n`);
  });
}
