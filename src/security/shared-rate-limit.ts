// Per-agent send rates for the hub as a whole, when several processes share one store: the bucket
// lives in the store (takeTokens), and each process takes tokens from it in chunks of about a tenth
// of a second's worth, spending them locally. A token is taken from the shared bucket before a send
// is admitted, so the hub never admits more than one bucket allows (burst plus rate × time),
// however the sends spread over processes. What it costs: a process may hold up to one unspent
// chunk per agent, lost after CHUNK_TTL_MS, so an agent whose sends hop between processes may be
// refused up to (processes - 1) × chunk sends early. One round trip per chunk, none per send.
import { HubError } from '../errors.js';
import type { Rate } from './rate-limit.js';

/** Unspent local tokens older than this go back to nobody (the bucket has refilled meanwhile). */
const CHUNK_TTL_MS = 1000;
/** A chunk is this many milliseconds of the rate (at least one token, at most the burst). */
const CHUNK_MS = 100;
const MAX_KEYS = 10_000;
/** Fetches one send waits through at most (each brings tokens for everyone then waiting). */
const MAX_ROUNDS = 8;

type Take = (key: string, rate: number, burst: number, want: number, now: number) => Promise<{ granted: number; remaining: number }>;

interface Local {
  tokens: number;
  at: number;
  fetching: Promise<void> | null;
  /** Sends waiting for tokens: the next fetch asks for at least this many. */
  demand: number;
  /** The last fetch found the shared bucket short (granted less than asked). */
  short: boolean;
  /** Milliseconds until the shared bucket has a token again, from the last fetch. */
  waitMs: number;
}

export class SharedRateLimiter {
  private readonly local = new Map<string, Local>();

  constructor(
    private readonly limits: () => Rate,
    private readonly take: Take,
    /** Bucket names are prefixed (one limit, one namespace of keys). */
    private readonly prefix: string,
  ) {}

  /** Takes one token for `key` or throws `rate_limited` naming `what`. */
  async charge(key: string, now: number, what: string): Promise<void> {
    const { rate, burst } = this.limits();
    if (rate <= 0) return;
    let l = this.local.get(key);
    if (l === undefined) {
      if (this.local.size >= MAX_KEYS) this.local.clear();
      this.local.set(key, (l = { tokens: 0, at: now, fetching: null, demand: 0, short: false, waitMs: 0 }));
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (now - l.at > CHUNK_TTL_MS) l.tokens = 0;
      if (l.tokens >= 1) {
        l.tokens -= 1;
        return;
      }
      // Refused when a fetch made while this send waited found the shared bucket short, or when
      // the last one found it empty and it cannot have refilled a token yet (no round trip then).
      if (round > 0 && l.short) break;
      if (l.waitMs > 0 && now < l.at + l.waitMs) break;
      // One fetch per key at a time, for everyone waiting: concurrent sends share what it brings.
      l.demand += 1;
      try {
        const local = l;
        l.fetching ??= this.fetch(key, l, rate, burst, now).finally(() => {
          local.fetching = null;
        });
        await l.fetching;
      } finally {
        l.demand -= 1;
      }
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(l.waitMs / 1000));
    throw new HubError('rate_limited', `${what}: retry in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } });
  }

  private async fetch(key: string, l: Local, rate: number, burst: number, now: number): Promise<void> {
    const want = Math.max(1, Math.min(burst, Math.max(Math.floor((rate * CHUNK_MS) / 1000), l.demand)));
    const r = await this.take(`${this.prefix}:${key}`, rate, burst, want, now);
    l.tokens = (now - l.at > CHUNK_TTL_MS ? 0 : l.tokens) + r.granted;
    l.at = now;
    l.short = r.granted < want;
    l.waitMs = r.granted > 0 ? 0 : Math.ceil(((1 - r.remaining) * 1000) / rate);
  }
}
