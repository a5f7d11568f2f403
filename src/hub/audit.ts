// The audit trail as a hub service. An act that changes something (a registration, a token, a
// setting) hands its records to the store with the act itself (`entry` builds them; store.ts
// AuditOf): both are stored or neither, so no act is left unaudited (issue 12). A call made for
// another agent (`--as`) is recorded with `write` before it runs, and is refused when that write
// fails. Refusals (failed authentication, a denied --as) change nothing: `record` writes them on a
// best-effort basis, a failure logged and counted. Admins list the records and verify the chain
// (src/domain/audit.ts says what verification can tell).
import type { AuditAnchor, AuditOutcome, AuditRecord, ChainReport, NewAuditRecord } from '../domain/audit.js';
import { verifyChain } from '../store/audit-chain.js';
import type { AuditQuery, Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | undefined;
  requestId?: string | null | undefined;
  outcome?: AuditOutcome | undefined;
  detail?: Record<string, unknown> | undefined;
}

/** What services hold: somewhere to record refusals to (best effort: never fails the caller). */
export interface AuditSink {
  record(e: AuditEntry): Promise<void>;
}

/** The record of an entry at a time, as the store appends it (with an act, or alone). */
export function entry(e: AuditEntry, at: number): NewAuditRecord {
  return { at, actor: e.actor, action: e.action, target: e.target ?? '', requestId: e.requestId ?? null, outcome: e.outcome ?? 'ok', detail: e.detail ?? {} };
}

/** For services used without a hub (tests, tools): records nothing. */
export const noAudit: AuditSink = { record: async () => undefined };

/** The fields of an entry made by an authenticated caller: who, for whom, in which request. */
export function by(actor: Actor | null | undefined): Pick<AuditEntry, 'actor' | 'requestId'> & { detail: Record<string, unknown> } {
  if (actor === null || actor === undefined) return { actor: 'hub', requestId: null, detail: {} };
  return {
    actor: actor.principal.id,
    requestId: actor.requestId ?? null,
    detail: actor.self.id === actor.principal.id ? {} : { as: actor.self.id },
  };
}


export class Audit implements AuditSink {
  /** Records that could not be written (also counted in swarm_audit_write_failures_total). */
  failures = 0;
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    /** Told of every failed write (the logger and the metric). */
    private readonly onFailure: (e: unknown, entry: AuditEntry) => void = () => undefined,
  ) {}

  /** Writes the record before the act it announces; throws when it cannot, and the act must not run. */
  async write(e: AuditEntry): Promise<void> {
    try {
      await this.store.appendAudit(entry(e, this.now()));
    } catch (err) {
      this.failed(err, e);
      throw err;
    }
  }

  /** Best effort, for refusals: a failure is logged and counted, never thrown. */
  async record(e: AuditEntry): Promise<void> {
    try {
      await this.store.appendAudit(entry(e, this.now()));
    } catch (err) {
      this.failed(err, e);
    }
  }

  private failed(err: unknown, e: AuditEntry): void {
    this.failures += 1;
    try {
      this.onFailure(err, e);
    } catch {
      // Reporting must not fail the caller either.
    }
  }

  async list(actor: Actor, q: AuditQuery): Promise<AuditRecord[]> {
    authorize(actor, 'audit.read', 'read the audit trail');
    return this.store.auditRecords(q);
  }

  /** Walks the whole chain twice (see ChainCheck) and reports every problem found. */
  async verify(actor: Actor, anchor: AuditAnchor | null = null): Promise<ChainReport> {
    authorize(actor, 'audit.read', 'verify the audit trail');
    return verifyChain(this.store, anchor);
  }
}
