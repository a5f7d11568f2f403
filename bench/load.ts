// One load run with autocannon: a warm-up, then the measured run. Rates are 2xx responses over the
// measured duration (not autocannon's per-second samples). Latencies are percentiles of every 2xx
// response time as autocannon measured it (hrtime, float ms): its own HDR histogram keeps whole
// milliseconds, too coarse for a bare route that answers in well under one.
import autocannon, { type Request } from 'autocannon';

export interface LoadOptions {
  url: string;
  requests: Request[];
  connections: number;
  durationS: number;
  warmupS: number;
  /** Offer this many requests per second over all connections; absent: as fast as answers come. */
  rate?: number | undefined;
  /** Called when the warm-up has ended and the measured run starts (e.g. to mark a CPU meter). */
  onMeasured?: () => void;
}

export interface RunResult {
  ok: number;
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
}

/** Every response time of a run, kept whole so percentiles are exact (8 bytes a response). */
export class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;
  private sorted = false;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    this.sorted = false;
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }

  /** Nearest-rank percentile in ms; NaN when nothing was recorded. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.values.subarray(0, this.n);
    if (!this.sorted) sorted.sort();
    this.sorted = true;
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return sorted[rank] as number;
  }
}

async function fire(o: LoadOptions, durationS: number): Promise<RunResult> {
  const instance = autocannon({ url: o.url, connections: o.connections, duration: durationS, timeout: 10, requests: o.requests, ...(o.rate === undefined ? {} : { overallRate: o.rate }) });
  const latencies = new Latencies();
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.add(ms);
  });
  // autocannon ends by its own duration; this only guards against a wedged run.
  const guard = setTimeout(() => instance.stop(), (durationS + 30) * 1000);
  try {
    const r = await instance;
    const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, Number(s.count)]));
    return {
      ok: r['2xx'],
      rate: r['2xx'] / r.duration,
      p50: latencies.percentile(50),
      p90: latencies.percentile(90),
      p99: latencies.percentile(99),
      p999: latencies.percentile(99.9),
      max: latencies.percentile(100),
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      durationS: r.duration,
      statusCodes,
    };
  } finally {
    clearTimeout(guard);
  }
}

/**
 * Warm-up (discarded except for its 2xx count, which the store check needs), then the measured run.
 * `loads` counts the autocannon runs: each may end with one request per connection sent but unanswered.
 */
export async function measure(o: LoadOptions): Promise<{ warmupOk: number; loads: number; run: RunResult }> {
  const warm = o.warmupS > 0 ? await fire(o, o.warmupS) : null;
  o.onMeasured?.();
  const run = await fire(o, o.durationS);
  return { warmupOk: warm?.ok ?? 0, loads: warm === null ? 1 : 2, run };
}
