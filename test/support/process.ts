// Real processes: a `swarm serve` hub on a free port, and CLI invocations, as a user would run them.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SWARM_BIN } from './paths.js';
import { serveOn, type TestStore } from './store.js';

export interface HubProcess {
  url: string;
  dataDir: string;
  adminToken: string;
  proc: ChildProcess;
  /** Everything the hub wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/**
 * The admin token of processes sharing one PostgreSQL: minted once, by whichever of them started
 * first, so found in that one's data directory only.
 */
export function adminTokenOf(procs: HubProcess[]): string {
  const tokens = [...new Set(procs.map((p) => p.adminToken).filter((t) => t !== ''))];
  if (tokens.length !== 1) throw new Error(`expected one admin token among ${procs.length} processes, found ${tokens.length}`);
  return tokens[0] as string;
}

/** Environment for children: nothing of the developer's SWARM_* settings leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWARM_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * `store`: the test store to serve (store.ts); without it, SQLite in dataDir unless args or env say
 * otherwise. `bin`: another build's bin/swarm.cjs (an older version, say); default this checkout's.
 */
export async function spawnHub(dataDir: string, opts: { env?: Record<string, string>; args?: string[]; cwd?: string; store?: TestStore; bin?: string } = {}): Promise<HubProcess> {
  mkdirSync(dataDir, { recursive: true });
  const on = opts.store === undefined ? { args: [], env: {} } : serveOn(opts.store);
  const proc = spawn(process.execPath, [opts.bin ?? SWARM_BIN, 'serve', '--port', '0', '--data', dataDir, ...on.args, ...(opts.args ?? [])], {
    cwd: opts.cwd ?? dataDir,
    env: cleanEnv({ SWARM_LOG_LEVEL: 'warn', ...on.env, ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 20 s:\n${out}`)), 20_000);
    // Only until the hub listens: a hub that logs a lot must not cost a scan of all its output per line.
    const check = (): void => {
      const m = /listening on (https?:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        proc.stderr?.off('data', check);
        resolve(m[1]);
      }
    };
    proc.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before listening:\n${out}`));
    });
  });
  // A worker writes no admin token.
  const adminToken = existsSync(join(dataDir, 'admin.token')) ? readFileSync(join(dataDir, 'admin.token'), 'utf8').trim() : '';
  return {
    url,
    dataDir,
    adminToken,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args…` to its end, collecting its output, with `input` on its stdin (none: closed
 * at once). Never rejects on a non-zero exit (check `code`); rejects when it cannot start or runs
 * past `timeoutMs` (then killed), saying which command and the tail of its stderr.
 */
export function runProcess(
  command: string,
  args: string[],
  o: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs: number; label?: string },
): Promise<CliResult & { ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(command, args, { cwd: o.cwd ?? process.cwd(), env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
    // A command that exits without reading its input must not fail the test with EPIPE.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(o.input ?? '');
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${o.label ?? `${command} ${args.join(' ')}`} did not finish within ${o.timeoutMs} ms; stderr: ${stderr.slice(-500)}`));
    }, o.timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/**
 * Runs `swarm ARGS…` as its own process; `node`: the Node.js binary to run it with (default: this
 * one); `bin`: another executable of the package (default bin/swarm.cjs).
 */
export async function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number; node?: string; bin?: string } = {}): Promise<CliResult> {
  const r = await runProcess(opts.node ?? process.execPath, [opts.bin ?? SWARM_BIN, ...args], {
    env: cleanEnv(opts.env),
    cwd: opts.cwd,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
    label: `swarm ${args.join(' ')}`,
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}
