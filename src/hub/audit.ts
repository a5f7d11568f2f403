// The audit trail as a hub service: services record security-relevant acts through `record`
// (which never fails the act being recorded: a failure is logged and counted), admins list the
// records and verify the chain (src/domain/audit.ts says what verification can tell).
import type { AuditAnchor, AuditOutcome, AuditRecord, ChainReport } from '../domain/audit.js';
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

/** What services hold: somewhere to record to. */
export interface AuditSink {
  record(e: AuditEntry): Promise<void>;
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
  /** Told of every failed write (the logger and the metric). */
  onFailure: ((e: unknown, entry: AuditEntry) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async record(e: AuditEntry): Promise<void> {
    try {
      await this.store.appendAudit({
        at: this.now(),
        actor: e.actor,
        action: e.action,
        target: e.target ?? '',
        requestId: e.requestId ?? null,
        outcome: e.outcome ?? 'ok',
        detail: e.detail ?? {},
      });
    } catch (err) {
      this.failures += 1;
      try {
        this.onFailure?.(err, e);
      } catch {
        // Reporting must not fail the caller either.
      }
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
