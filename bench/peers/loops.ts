// The load shapes every system of the peers benchmark is put through, written once so that each
// driver only says how to publish and how to consume: a closed loop (N publishes in flight, each
// timed from its start to its acknowledgement), an open loop (publishes started on the clock,
// timed from their start to receipt by a consumer) and a fan-out loop (a window of broadcasts, each
// out until every consumer has it). Each is bounded in time and in count and ends by itself.
import { Latencies } from '../load.js';
import { CpuMeter, monoMs } from '../report.js';

/** Publishes one message (its body carries `seq`) and resolves on the system's acknowledgement. */
export type Publish = (seq: number) => Promise<void>;

export interface Measured {
  /** Operations (acknowledged publishes, deliveries) per second over the measured window. */
  rate: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  firstError: string | null;
  /** The server's CPU over the measured window, % of one core; NaN when it is not on this machine. */
  cpuPct: number;
  /** This process's (the clients') CPU over the same window: near 100 % means the figure is the client's limit. */
  clientCpuPct: number;
  count: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Ends a window by the clock or by a count, whichever comes first. */
interface Bounds {
  durationS: number;
  /** Publishes at most (warm-up included); Infinity for none. */
  maxOps: number;
}

/**
 * `lanes` publishers (connections, sockets, channels), each with `perLane` publishes in flight, in
 * a closed loop: a warm-up whose figures are dropped, then the measured window.
 */
export async function closedLoop(o: { lanes: Publish[]; perLane: number; warmupS: number; cpuPid: number | null } & Bounds): Promise<Measured> {
  let seq = 0;
  let errors = 0;
  let firstError: string | null = null;
  let measuring = o.warmupS === 0;
  const lat = new Latencies();
  let count = 0;
  const tEnd = monoMs() + (o.warmupS + o.durationS) * 1000;
  const cpu = new CpuMeter({ server: o.cpuPid ?? -1, client: process.pid });
  let t0 = monoMs();
  cpu.mark();
  const worker = async (publish: Publish): Promise<void> => {
    while (monoMs() < tEnd && seq < o.maxOps) {
      const s = seq++;
      const start = monoMs();
      try {
        await publish(s);
        if (measuring) {
          lat.add(monoMs() - start);
          count += 1;
        }
      } catch (e) {
        errors += 1;
        firstError ??= e instanceof Error ? e.message : String(e);
        // A failing system is not hammered in a tight loop.
        await sleep(10);
      }
    }
  };
  const done = Promise.all(o.lanes.flatMap((lane) => Array.from({ length: o.perLane }, () => worker(lane))));
  if (!measuring) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, o.warmupS * 1000)))]);
    clearTimeout(timer);
    measuring = true;
    t0 = monoMs();
    cpu.mark();
  }
  await done;
  const wallS = (monoMs() - t0) / 1000;
  const shares = cpu.read();
  return { rate: count / wallS, p50: lat.percentile(50), p99: lat.percentile(99), max: lat.percentile(100), errors, firstError, cpuPct: o.cpuPid === null ? NaN : (shares.server?.cpuPct ?? NaN), clientCpuPct: shares.client?.cpuPct ?? NaN, count };
}

/** Publishes `total` messages through the lanes as fast as they are acknowledged (pre-loading a queue). */
export async function preload(lanes: Publish[], perLane: number, total: number, budgetS: number): Promise<Measured> {
  const m = await closedLoop({ lanes, perLane, warmupS: 0, durationS: budgetS, maxOps: total, cpuPid: null });
  if (m.count < total) throw new Error(`pre-loading stored ${m.count} of ${total} messages within ${budgetS} s${m.firstError === null ? '' : `; first error: ${m.firstError}`}`);
  return m;
}

/**
 * Open loop: `rate` publishes a second started on a 1 ms tick, whatever the answers do; each timed
 * from its start to `received(seq)`. The warm-up's sends are left out of the figures. After the
 * last send, deliveries may take `drainMs` before they count as lost.
 */
export class OpenLoop {
  private readonly startedAt: Float64Array;
  private readonly receivedAt: Float64Array;
  private readonly total: number;
  private readonly first: number;
  private got = 0;
  errors = 0;
  firstError: string | null = null;

  constructor(private readonly o: { rate: number; durationS: number; warmupS: number; cpuPid: number | null; drainMs?: number }) {
    this.total = Math.round(o.rate * (o.warmupS + o.durationS));
    this.first = Math.round(o.rate * o.warmupS);
    this.startedAt = new Float64Array(this.total).fill(NaN);
    this.receivedAt = new Float64Array(this.total).fill(NaN);
  }

  /** What a consumer calls for each delivery. */
  received = (seq: number): void => {
    if (seq < 0 || seq >= this.total || !Number.isNaN(this.receivedAt[seq] as number)) return;
    this.receivedAt[seq] = monoMs();
    this.got += 1;
  };

  failed = (e: unknown): void => {
    this.errors += 1;
    this.firstError ??= e instanceof Error ? e.message : String(e);
  };

  /** `start(seq)` begins one publish and must not wait for it. */
  async run(start: (seq: number) => void): Promise<Measured & { offered: number; lost: number }> {
    const cpu = new CpuMeter({ server: this.o.cpuPid ?? -1, client: process.pid });
    const perMs = this.o.rate / 1000;
    const t0 = monoMs() + 5;
    let next = 0;

    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(this.total, Math.floor((monoMs() - t0) * perMs) + 1);
        while (next < due) {
          const seq = next++;
          if (seq === this.first) cpu.mark();
          this.startedAt[seq] = monoMs();
          try {
            start(seq);
          } catch (e) {
            this.failed(e);
          }
        }
        if (next >= this.total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const shares = cpu.read();
    const until = monoMs() + (this.o.drainMs ?? 5000);
    while (this.got < this.total && monoMs() < until) await sleep(20);
    const lat = new Latencies();
    let lost = 0;
    for (let seq = this.first; seq < this.total; seq++) {
      const r = this.receivedAt[seq] as number;
      if (Number.isNaN(r)) lost += 1;
      else lat.add(r - (this.startedAt[seq] as number));
    }
    const spanS = ((this.startedAt[this.total - 1] as number) - (this.startedAt[this.first] as number)) / 1000;
    const n = this.total - this.first;
    return { rate: lat.count / spanS, offered: (n - 1) / spanS, p50: lat.percentile(50), p99: lat.percentile(99), max: lat.percentile(100), errors: this.errors, firstError: this.firstError, lost, cpuPct: this.o.cpuPid === null ? NaN : (shares.server?.cpuPct ?? NaN), clientCpuPct: shares.client?.cpuPct ?? NaN, count: lat.count };
  }
}

/**
 * Fan-out: at most `window` broadcasts out, one being out until all `consumers` received it.
 * Deliveries received within the measured window, per second.
 */
export class FanoutLoop {
  private readonly got = new Map<number, number>();
  private out = 0;
  private seq = 0;
  private sending = true;
  private measuring = false;
  private deliveries = 0;
  private start: (seq: number) => void = () => undefined;
  errors = 0;
  firstError: string | null = null;

  /** `seqBase`: the first broadcast's seq; deliveries of seqs this loop did not send (an earlier round's, redelivered) are not counted. */
  constructor(private readonly o: { consumers: number; window: number; durationS: number; warmupS: number; cpuPid: number | null; seqBase?: number }) {
    this.seq = o.seqBase ?? 0;
  }

  received = (seq: number): void => {
    const had = this.got.get(seq);
    if (had === undefined) return;
    if (this.measuring) this.deliveries += 1;
    const n = had + 1;
    if (n < this.o.consumers) {
      this.got.set(seq, n);
      return;
    }
    this.got.delete(seq);
    this.out -= 1;
    this.pump();
  };

  failed = (seq: number, e: unknown): void => {
    this.errors += 1;
    this.firstError ??= e instanceof Error ? e.message : String(e);
    if (this.got.delete(seq)) {
      this.out -= 1;
      setTimeout(() => this.pump(), 10);
    }
  };

  private pump(): void {
    while (this.sending && this.out < this.o.window) {
      this.out += 1;
      const seq = this.seq++;
      this.got.set(seq, 0);
      try {
        this.start(seq);
      } catch (e) {
        this.failed(seq, e);
      }
    }
  }

  async run(start: (seq: number) => void): Promise<Measured & { broadcasts: number }> {
    this.start = start;
    const cpu = new CpuMeter({ server: this.o.cpuPid ?? -1, client: process.pid });
    this.pump();
    await sleep(this.o.warmupS * 1000);
    const seq0 = this.seq;
    this.measuring = true;
    cpu.mark();
    const t0 = monoMs();
    await sleep(this.o.durationS * 1000);
    this.measuring = false;
    const wallS = (monoMs() - t0) / 1000;
    const shares = cpu.read();
    this.sending = false;
    const broadcasts = this.seq - seq0;
    const until = monoMs() + 10_000;
    while (this.out > 0 && monoMs() < until) await sleep(20);
    if (this.out > 0) this.failed(-1, new Error(`${this.out} broadcasts not received by every consumer within 10 s`));
    return { rate: this.deliveries / wallS, p50: NaN, p99: NaN, max: NaN, errors: this.errors, firstError: this.firstError, cpuPct: this.o.cpuPid === null ? NaN : (shares.server?.cpuPct ?? NaN), clientCpuPct: shares.client?.cpuPct ?? NaN, count: this.deliveries, broadcasts: broadcasts / wallS };
  }
}

/** Counts deliveries while a queue is drained; resolves when `total` arrived or the budget ran out. */
export class Drain {
  private n = 0;
  private t0 = monoMs();
  private tLast = NaN;
  private done: () => void = () => undefined;
  private readonly finished = new Promise<void>((r) => (this.done = r));
  private readonly cpu: CpuMeter;

  constructor(
    private readonly total: number,
    private readonly cpuPid: number | null,
  ) {
    this.cpu = new CpuMeter({ server: cpuPid ?? -1, client: process.pid });
  }

  /** The drain starts (the consumer is about to subscribe). */
  begin(): void {
    this.t0 = monoMs();
    this.cpu.mark();
  }

  get count(): number {
    return this.n;
  }

  received = (): void => {
    this.n += 1;
    this.tLast = monoMs();
    if (this.n >= this.total) this.done();
  };

  async wait(budgetS: number): Promise<Measured> {
    // The budget's timer is cleared when the drain finishes first: left running it would keep the benchmark alive after its report.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.finished, new Promise((r) => (timer = setTimeout(r, budgetS * 1000)))]);
    clearTimeout(timer);
    const shares = this.cpu.read();
    const cpuPct = this.cpuPid === null ? NaN : (shares.server?.cpuPct ?? NaN);
    const complete = this.n >= this.total;
    const end = complete ? this.tLast : monoMs();
    return { rate: this.n / ((end - this.t0) / 1000), p50: NaN, p99: NaN, max: NaN, errors: complete ? 0 : 1, firstError: complete ? null : `drained ${this.n} of ${this.total} within ${budgetS} s`, cpuPct, clientCpuPct: shares.client?.cpuPct ?? NaN, count: this.n };
  }
}

/** The sequence number a benchmark body (`bench:<seq>:…`, bench/subscribers.ts) carries. */
export function seqOf(body: Uint8Array | string): number {
  const text = typeof body === 'string' ? body.slice(0, 24) : Buffer.from(body.buffer, body.byteOffset, Math.min(24, body.byteLength)).toString('latin1');
  return Number(text.slice(6, text.indexOf(':', 6)));
}
