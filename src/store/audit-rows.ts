// Audit rows as both adapters read them (the PostgreSQL adapter decodes BIGINT as a number).
// A stored detail that is not a JSON object any more (edited by hand) still maps to a record, so
// that verification can report it instead of failing on it.
import { AUDIT_OUTCOMES, type AuditOutcome, type AuditRecord } from '../domain/audit.js';

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  request_id: string | null;
  outcome: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { unparsable: text };
  } catch {
    return { unparsable: text };
  }
}

export function toAuditRecord(r: AuditRow): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    requestId: r.request_id,
    outcome: (AUDIT_OUTCOMES as readonly string[]).includes(r.outcome) ? (r.outcome as AuditOutcome) : 'failed',
    detail: parseDetail(r.detail),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
