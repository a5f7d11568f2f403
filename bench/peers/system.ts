// What the peers runner (bench/peers/peers.ts) asks of each system's driver: connect, run one case
// of one round and return a row per variant, say what its server process holds in memory, close.
// The durability of each figure travels with it, so no table shows a rate without saying what an
// acknowledgement meant.
import { readdirSync, readFileSync } from 'node:fs';
import type { Measured } from './loops.js';

export const SYSTEMS = ['swarm', 'rabbitmq', 'nats', 'redis'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const CASES = ['publish', 'one-connection', 'consume', 'e2e', 'fanout', 'memory'] as const;
export type CaseName = (typeof CASES)[number];

export interface CaseOptions {
  round: number;
  /** Unique per benchmark run: queue, stream and agent names carry it. */
  runId: string;
  durationS: number;
  warmupS: number;
  /** Case 1: publishes in flight (50 and 256). */
  inFlight: number[];
  /** Case 2: publishes in flight on one connection. */
  oneConnection: number;
  /** Case 3: messages pre-loaded, then drained. */
  messages: number;
  prefetch: number;
  /** Case 3, batched: ids per ack. */
  ackBatch: number;
  /** Case 4: publishes per second offered. */
  rate: number;
  /** Case 5. */
  consumers: number;
  window: number;
  /** Case 3: most seconds a pre-load or a drain may take. */
  budgetS: number;
  log: (line: string) => void;
}

export interface Row {
  variant: string;
  durability: string;
  m: Measured;
  /** e.g. broadcasts per second, messages lost. */
  note?: string;
}

export interface MemoryRow {
  process: string;
  rssMiB: number;
  /** VmHWM: the process's peak since it started (for a broker running before the benchmark, its whole life). */
  peakMiB: number;
  note: string;
}

export interface Driver {
  readonly system: SystemName;
  /** Connects (and starts what is ours to start); throws when the system cannot be reached. */
  open(): Promise<void>;
  /** Rows for one case in one round; none when the system has nothing to compare there. */
  run(c: Exclude<CaseName, 'memory'>, o: CaseOptions): Promise<Row[]>;
  memory(): MemoryRow[];
  close(): Promise<void>;
}

/** The oldest process whose command name (/proc/PID/comm) is `comm`, optionally with `arg` in its command line. */
export function findPid(comm: string, arg?: string): number | null {
  let best: { pid: number; start: number } | null = null;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== comm) continue;
      if (arg !== undefined && !readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(arg)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      if (best === null || start < best.start) best = { pid: Number(name), start };
    } catch {
      // gone meanwhile
    }
  }
  return best?.pid ?? null;
}

/** Runs `f` and throws if it has not settled within `ms` (a client that hangs connecting to a dead port). */
export async function within<T>(ms: number, what: string, f: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([f(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A 256-byte benchmark body as bytes. */
export function bodyBytes(seq: number, bytes = 256): Buffer {
  const head = `bench:${seq}:`;
  return Buffer.from(head + 'x'.repeat(Math.max(0, bytes - head.length)));
}
