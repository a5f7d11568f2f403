// What the benchmarks share besides the servers: flag parsing errors, medians, plain-text tables,
// the machine description, and CPU/RSS of processes read from /proc (the hub and the load
// generators), so that every result says which side was busy.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { cpus, release, totalmem } from 'node:os';
import { type ProcRef, procUsage } from '../test/support/proc.js';
import { batchStatsOf, streamStatsOf } from './servers.js';

/** A bad flag: reported as one line, without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses a benchmark's flags: a bad one is a UsageError; `--help` prints `help` and exits. Each
 * benchmark keeps its own option table; this is the handling they share.
 */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, help: string): ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'] {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'];
  try {
    values = parseArgs({ args: argv, options }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see --help)`);
  }
  if ((values as { help?: unknown }).help === true) {
    process.stdout.write(help);
    process.exit(0);
  }
  return values;
}

export function intOption(name: string, raw: string | undefined, env: string | undefined, dflt: number, min: number, max: number): number {
  const text = raw ?? env;
  if (text === undefined || text === '') return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${text}`);
  return n;
}

/** `--synchronous` (or BENCH_SYNCHRONOUS): the hub's SQLite synchronous mode, `full` by default. */
export function synchronousOption(raw: string | undefined): 'full' | 'normal' {
  const sync = raw ?? process.env.BENCH_SYNCHRONOUS ?? 'full';
  if (sync !== 'full' && sync !== 'normal') throw new UsageError(`--synchronous must be full or normal, got ${sync}`);
  return sync;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function machine(): Record<string, string | number> {
  const c = cpus();
  return { cpus: c.length, cpu: c[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release() };
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** Milliseconds on the system's monotonic clock: comparable between processes of one machine, unlike performance.now(). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export { type ProcRef, procUsage };

export interface ProcShare {
  /** Percent of one core over the window (200 % = both cores of a 2-core machine). */
  cpuPct: number;
  rssMiB: number;
}

/** CPU of named processes over a window: mark() at its start, read() at its end. */
export class CpuMeter {
  private start = new Map<string, number>();
  private t0 = 0;

  constructor(private readonly pids: Record<string, ProcRef>) {}

  mark(): void {
    this.t0 = monoMs();
    for (const [name, pid] of Object.entries(this.pids)) this.start.set(name, procUsage(pid)?.cpuS ?? NaN);
  }

  read(): Record<string, ProcShare> {
    const wallS = (monoMs() - this.t0) / 1000;
    const out: Record<string, ProcShare> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const u = procUsage(pid);
      out[name] = { cpuPct: u === null ? NaN : ((u.cpuS - (this.start.get(name) ?? NaN)) / wallS) * 100, rssMiB: u?.rssMiB ?? NaN };
    }
    return out;
  }
}

/** The hub's own statistics (bench/hub-with-stats.ts, `--batch-stats`) as report lines, or none. */
export function statsLines(out: string): { lines: string[]; stats: unknown } {
  const b = batchStatsOf(out);
  const st = streamStatsOf(out);
  if (b === null || st === null) return { lines: [], stats: null };
  const n = (x: number | undefined, d = 1): string => (x ?? NaN).toFixed(d);
  const a = st.ack;
  const l = st.lease;
  return {
    stats: { sends: b, ...st },
    lines: [
      `hub stats (whole run, warm-up included; times from a commit's call to its outcome): send commits ${b.batches}, mean batch ${n(b.meanBatch)}, ${n(b.commitUsPerItem)} µs per send, ${n(b.commitMsTotal / 1000, 2)} s;`,
      `  ack commits ${a.commits}, ${n(a.meanFrames)} frames / ${n(a.meanIds)} ids each, p50 ${n(a.commitUsP50, 0)} µs, p99 ${n(a.commitUsP99, 0)} µs, ${n(a.commitUsPerId)} µs per id, ${n((a.commitMsTotal ?? NaN) / 1000, 2)} s;`,
      `  hand-outs (store lease calls) ${l.calls} (${l.emptyCalls} leased nothing), ${n(l.meanRequests)} requests / ${n(l.meanItems)} deliveries each, p50 ${n(l.usP50, 0)} µs, p99 ${n(l.usP99, 0)} µs, ${n(l.usPerItem)} µs per delivery, ${n((l.msTotal ?? NaN) / 1000, 2)} s`,
    ],
  };
}

/** Runs a benchmark's main; a UsageError is one line, anything else its stack; exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof UsageError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
