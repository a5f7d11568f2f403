// The two servers under load, each its own process so that neither shares an event loop with the
// load generator: the real hub (`swarm serve`) and the bare Fastify baseline. Every child is
// registered here and SIGKILLed when the benchmark exits, whatever the reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { cleanEnv } from '../test/support/process.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SWARM_BIN = join(ROOT, 'bin', 'swarm.cjs');
const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));
const HUB_WITH_STATS = fileURLToPath(new URL('./hub-with-stats.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Registers a child started elsewhere (e.g. load-generator processes) so it dies with the benchmark. */
export function trackChild(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
}

function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.once('exit', killAll);
// A signal would end the benchmark without 'exit' handlers; turn it into an exit that runs them.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));

/** Starts `node ARGS` (cleaned SWARM_* environment plus `env`) and waits for its "listening on URL" line. */
export async function spawnServer(args: string[], env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const proc = spawn(process.execPath, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-64 * 1024)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-64 * 1024)));
  // bench/hub-with-stats.ts's "<name>-stats {...}" lines are kept apart: a flood of log lines on
  // the other pipe (e.g. at shutdown) must not push them out of the 64 KiB kept above.
  let partial = '';
  let stats = '';
  proc.stderr?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (/^[a-z]+-stats \{/.test(line)) stats += `${line}\n`;
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  void exited.then(() => children.delete(proc));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    const check = (): void => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    proc,
    output: () => `${out}\n${stats}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface HubOptions {
  dataDir: string;
  synchronous: 'full' | 'normal';
  /** Node flags for the hub process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Run bench/hub-with-stats.ts (same startHub, plus group-commit statistics) instead of `swarm serve`. */
  batchStats?: boolean;
}

export interface BatchStats {
  batches: number;
  items: number;
  meanBatch: number;
  p50Batch: number;
  p99Batch: number;
  maxBatch: number;
  commitMsTotal: number;
  commitUsP50: number;
  commitUsP99: number;
  commitUsPerItem: number;
}

/** The stream statistics bench/hub-with-stats.ts prints when it stops ("ack-stats", "lease-stats"); null from `swarm serve`. */
export function streamStatsOf(output: string): { ack: Record<string, number>; lease: Record<string, number> } | null {
  const a = /^ack-stats (\{.*\})$/m.exec(output)?.[1];
  const l = /^lease-stats (\{.*\})$/m.exec(output)?.[1];
  return a === undefined || l === undefined ? null : { ack: JSON.parse(a) as Record<string, number>, lease: JSON.parse(l) as Record<string, number> };
}

/** The statistics bench/hub-with-stats.ts prints when it stops; null from `swarm serve`. */
export function batchStatsOf(output: string): BatchStats | null {
  const m = /^batch-stats (\{.*\})$/m.exec(output);
  return m?.[1] === undefined ? null : (JSON.parse(m[1]) as BatchStats);
}

/**
 * The benchmarks measure throughput: the per-agent and per-address rate limits and the loop guard
 * (docs/security.md, Limits) would measure the limits instead. Every hub a benchmark starts gets these.
 */
/** Node's flags for a server run under `--cpu-prof DIR` (the benchmarks' flag): one profile per thread, written to DIR when it stops. */
export function cpuProfArgs(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

export const UNLIMITED = { SWARM_AGENT_RATE: '0', SWARM_ADDRESS_RATE: '0', SWARM_LOOP_RATE: '1000000' };

export async function startHub(o: HubOptions): Promise<ServerProcess & { adminToken: string }> {
  const env = { SWARM_SYNCHRONOUS: o.synchronous, SWARM_LOG_LEVEL: 'warn', SWARM_HOST: '127.0.0.1', SWARM_DATA: o.dataDir, ...UNLIMITED, ...o.env };
  const main = o.batchStats === true ? [HUB_WITH_STATS] : [SWARM_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', o.dataDir];
  const s = await spawnServer([...(o.nodeArgs ?? []), ...main], env, o.dataDir);
  const adminToken = readFileSync(join(o.dataDir, 'admin.token'), 'utf8').trim();
  return { ...s, adminToken };
}

export function startBare(): Promise<ServerProcess> {
  return spawnServer([BARE_SERVER], {}, ROOT);
}

/** Registers agents with the admin token; returns each agent's token. */
export async function registerAgents(url: string, adminToken: string, ids: string[]): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const id of ids) {
    const res = await fetch(`${url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 201) throw new Error(`registering ${id}: HTTP ${res.status} ${await res.text()}`);
    tokens.set(id, ((await res.json()) as { token: string }).token);
  }
  return tokens;
}

/**
 * After an embedded hub has stopped: the messages with this body in its SQLite file, and their
 * deliveries (read-only), for checking every answered send against what was stored.
 */
export function storedSends(dataDir: string, body: string): { stored: number; deliveries: number } {
  const db = new Database(join(dataDir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    return {
      stored: (db.prepare('SELECT count(*) AS n FROM messages WHERE body = ?').get(body) as { n: number }).n,
      deliveries: (db.prepare('SELECT count(*) AS n FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.body = ?').get(body) as { n: number }).n,
    };
  } finally {
    db.close();
  }
}
