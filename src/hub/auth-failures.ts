// Failed authentications on the audit trail, aggregated: at most one record per client address per
// minute, carrying how many attempts failed, why, with which token fingerprints, and the first and
// last time. Recording each attempt as it came cost a synchronous, fsynced append per request, so
// a flood of tokenless requests was a flood of writes (issue 12: 300 requests, 300 records).
// Noting a failure now only updates this tally; the records are written when the minute is over
// and when the hub stops (Hub.stop), off the request's path.
import type { AuditEntry, AuditSink } from './audit.js';

export const WINDOW_MS = 60_000;
/** Addresses tallied apart per window; failures from any further ones share one record. */
const MAX_SOURCES = 1000;
/** Distinct token fingerprints kept per address (the rest are only counted). */
const MAX_FINGERPRINTS = 10;
/** The source of the shared record once MAX_SOURCES addresses are tallied. */
export const OTHER_SOURCES = 'other addresses';

interface Tally {
  source: string;
  count: number;
  first: number;
  last: number;
  reasons: Map<string, number>;
  tokens: Set<string>;
  otherTokens: number;
}

export class AuthFailures {
  private tally = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly audit: AuditSink,
    private readonly now: () => number,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** One failed attempt from `source`; `token`: the fingerprint of a well-formed token, if any. */
  note(source: string, reason: string, token: string | undefined): void {
    const now = this.now();
    const key = this.tally.has(source) || this.tally.size < MAX_SOURCES ? source : OTHER_SOURCES;
    let t = this.tally.get(key);
    if (t === undefined) {
      t = { source: key, count: 0, first: now, last: now, reasons: new Map(), tokens: new Set(), otherTokens: 0 };
      this.tally.set(key, t);
    }
    t.count += 1;
    t.last = now;
    t.reasons.set(reason, (t.reasons.get(reason) ?? 0) + 1);
    if (token !== undefined && !t.tokens.has(token)) {
      if (t.tokens.size < MAX_FINGERPRINTS) t.tokens.add(token);
      else t.otherTokens += 1;
    }
    // The window starts with its first failure and ends a minute later: each address gets at most
    // one record in it.
    if (this.timer === null && !this.stopped) {
      this.timer = setTimeout(() => void this.flush(), this.windowMs);
      this.timer.unref();
    }
  }

  /** Writes one record per address for what was noted so far; resolves when written (or failed: AuditSink logs). */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.tally.values()];
    this.tally = new Map();
    if (batch.length > 0) {
      this.writing = this.writing.then(async () => {
        for (const t of batch) await this.audit.record(recordOf(t));
      });
    }
    return this.writing;
  }

  /** Writes what is left; nothing is scheduled after this (the hub is stopping). */
  stop(): Promise<void> {
    this.stopped = true;
    return this.flush();
  }
}

function recordOf(t: Tally): AuditEntry {
  return {
    actor: 'anonymous',
    action: 'auth.failed',
    outcome: 'denied',
    requestId: null,
    detail: {
      source: t.source,
      count: t.count,
      first_at: t.first,
      last_at: t.last,
      reasons: Object.fromEntries(t.reasons),
      tokens: [...t.tokens],
      ...(t.otherTokens > 0 ? { other_tokens: t.otherTokens } : {}),
    },
  };
}
