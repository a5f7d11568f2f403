// Failed authentication, throttled per source address: after `limit` failures from one address
// within `windowMs`, every attempt from it is refused (429 rate_limited) for `lockoutMs`, even
// with a valid token, so that guessing tokens costs a lock-out per few guesses. In memory, per
// process: each hub process counts on its own (docs/security.md).

/** Addresses remembered at most: a flood of sources must not grow memory without bound. */
const MAX_SOURCES = 10_000;

export interface ThrottleLimits {
  limit: number;
  windowMs: number;
  lockoutMs: number;
}

interface Entry {
  /** Times of the failures still within the window. */
  failures: number[];
  lockedUntil: number;
}

export class AuthThrottle {
  private readonly sources = new Map<string, Entry>();

  constructor(private readonly limits: () => ThrottleLimits) {}

  /** Milliseconds the address must still wait, or 0 when it may try. */
  blockedFor(source: string, now: number): number {
    const e = this.sources.get(source);
    if (e === undefined) return 0;
    if (e.lockedUntil > now) return e.lockedUntil - now;
    if (e.lockedUntil !== 0) this.sources.delete(source); // the lock-out is over: a fresh start
    return 0;
  }

  /** Records a failed attempt; returns true when it locks the address out. */
  failed(source: string, now: number): boolean {
    const { limit, windowMs, lockoutMs } = this.limits();
    let e = this.sources.get(source);
    if (e === undefined) {
      if (this.sources.size >= MAX_SOURCES) this.prune(now);
      e = { failures: [], lockedUntil: 0 };
      this.sources.set(source, e);
    }
    e.failures = e.failures.filter((t) => t > now - windowMs);
    e.failures.push(now);
    if (e.failures.length >= limit) {
      e.lockedUntil = now + lockoutMs;
      e.failures = [];
      return true;
    }
    return false;
  }

  private prune(now: number): void {
    const { windowMs } = this.limits();
    for (const [k, e] of this.sources) if (e.lockedUntil <= now && e.failures.every((t) => t <= now - windowMs)) this.sources.delete(k);
    if (this.sources.size >= MAX_SOURCES) this.sources.clear();
  }
}
