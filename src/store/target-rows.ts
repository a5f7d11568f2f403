// Delivery targets as rows, for both adapters: the filter's lists are JSON text in SQLite and
// arrays in PostgreSQL, so each adapter parses its lists and hands them here.
import { priorityFromRank, priorityRank, type MessageType } from '../domain/message.js';
import type { BreakerState, TargetSettings } from '../domain/target.js';
import type { NewTarget, TargetRecord } from './store-records.js';

export interface TargetRow {
  id: string;
  agent_id: string;
  kind: string;
  /** JSON text (SQLite) or the parsed object (PostgreSQL jsonb). */
  settings: string | Record<string, unknown>;
  secret: string;
  secret_sealed: string | null;
  min_priority: number;
  created_by: string;
  created_at: number | string;
  last_success_at: number | string | null;
  last_error: string | null;
  last_error_at: number | string | null;
  breaker: string;
  breaker_until: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toTarget(r: TargetRow, lists: { types: string[] | null; channels: string[] | null; senders: string[] | null }): TargetRecord {
  const settings = (typeof r.settings === 'string' ? JSON.parse(r.settings) : r.settings) as TargetSettings;
  const t: TargetRecord = {
    id: r.id,
    agentId: r.agent_id,
    settings,
    secret: r.secret,
    filter: { minPriority: priorityFromRank(r.min_priority), types: lists.types as MessageType[] | null, channels: lists.channels, senders: lists.senders },
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    lastSuccessAt: num(r.last_success_at),
    lastError: r.last_error,
    lastErrorAt: num(r.last_error_at),
    breaker: { state: r.breaker as BreakerState['state'], until: num(r.breaker_until) },
  };
  if (r.secret_sealed !== null) t.secretSealed = r.secret_sealed;
  return t;
}

/** The columns of a new target but its lists, which each adapter encodes its own way. */
export function targetParams(t: NewTarget): Record<string, unknown> {
  return {
    id: t.id,
    agent_id: t.agentId,
    kind: t.settings.kind,
    settings: JSON.stringify(t.settings),
    secret: t.secret,
    secret_sealed: t.secretSealed ?? null,
    min_priority: priorityRank(t.filter.minPriority),
    created_by: t.createdBy,
    created_at: t.createdAt,
  };
}
