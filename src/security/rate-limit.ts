// Token buckets, one per key (an agent id, a client address), held in this process's memory. The
// embedded hub is one process, so its buckets are the hub's; with several processes on PostgreSQL
// the per-agent send limit uses shared-rate-limit.ts instead, and the per-address limit (a guard
// against floods of bad tokens) stays per process: N api processes allow N times the rate.
// A bucket holds `burst` tokens and refills at `rate` per second; a request takes one token.
// Written here rather than taken from @fastify/rate-limit because the hub limits sends (HTTP and
// WebSocket frames alike) per agent, below Fastify, and reads its rates live from shared settings.
import { HubError } from '../errors.js';

export interface Rate {
  /** Tokens per second; 0 turns the limit off. */
  rate: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Most keys remembered; beyond, buckets that have refilled (or else the oldest) are forgotten. */
const MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: () => Rate) {}

  /** Takes one token for `key`: 0 when allowed, otherwise the milliseconds until one is there. */
  take(key: string, now: number): number {
    const { rate, burst } = this.limits();
    if (rate <= 0) return 0;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_KEYS) this.prune(now, rate, burst);
      b = { tokens: burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate));
  }

  /** Like `take`, but throws `rate_limited` naming what was limited and the setting behind it. */
  charge(key: string, now: number, what: string): void {
    const waitMs = this.take(key, now);
    if (waitMs === 0) return;
    const retryAfterSeconds = Math.ceil(waitMs / 1000);
    throw new HubError('rate_limited', `${what}: retry in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } });
  }

  get size(): number {
    return this.buckets.size;
  }

  /** A full bucket is the same as no bucket: forget those, then the oldest if still too many. */
  private prune(now: number, rate: number, burst: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + ((now - b.at) * rate) / 1000 >= burst) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < MAX_KEYS) break;
      this.buckets.delete(key);
    }
  }
}
