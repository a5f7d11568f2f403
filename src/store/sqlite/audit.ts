// The audit chain of the SQLite store: append-only records, each hashed onto the one before it
// (src/domain/audit.ts), appended under the file's write lock so that the chain never forks. The
// append is a function of a connection, run on the writer thread (writes.ts).
import { type AuditRecord, canonicalJson, chainNext, type NewAuditRecord } from '../../domain/audit.js';
import { type AuditRow, toAuditRecord } from '../audit-rows.js';
import type { AuditCheckpoint, AuditQuery, Store } from '../store.js';
import type { Connection } from './connection.js';
import type { WriteContext } from './writes.js';

export class Audit implements Pick<Store, 'appendAudit' | 'auditRecords' | 'auditChain' | 'trimAudit' | 'auditCheckpoint'> {
  constructor(private readonly conn: Connection) {}

  appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    return this.conn.write('appendAudit', r);
  }

  /**
   * Appends records inside the caller's transaction on the hub's connection, which must hold the
   * write lock (IMMEDIATE): an act and its audit records commit together or not at all (store.ts
   * AuditOf).
   */
  appendIn(records: readonly NewAuditRecord[]): AuditRecord[] {
    return records.map((r) => appendAudit(this.conn, r));
  }

  async auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    this.conn.live();
    const rows = this.conn.stmt('auditRecords').all({ since: q.since ?? null, actor: q.actor ?? null, action: q.action ?? null, limit: q.limit }) as AuditRow[];
    return rows.map(toAuditRecord);
  }

  async auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.conn.live();
    return (this.conn.stmt('auditChain').all({ after: afterSeq, limit }) as AuditRow[]).map(toAuditRecord);
  }

  /** On the hub's connection in an IMMEDIATE transaction: the writer thread's appenders wait. */
  async trimAudit(before: number, limit: number, now: number): Promise<number> {
    this.conn.live();
    return this.conn.db
      .transaction(() => {
        const rows = this.conn.stmt('auditTrimmable').all({ before, limit }) as { seq: number; hash: string; at: number }[];
        const last = rows.at(-1);
        if (last === undefined) return 0;
        this.conn.stmt('auditTrimThrough').run(last.seq);
        this.conn.stmt('auditSetCheckpoint').run({ seq: last.seq, hash: last.hash, at: last.at, trimmed_at: now });
        return rows.length;
      })
      .immediate();
  }

  async auditCheckpoint(): Promise<AuditCheckpoint | null> {
    this.conn.live();
    const r = this.conn.stmt('auditCheckpoint').get() as { seq: number; hash: string; at: number; trimmed_at: number } | undefined;
    return r === undefined ? null : { seq: r.seq, hash: r.hash, at: r.at, trimmedAt: r.trimmed_at };
  }
}

/**
 * In the writer's IMMEDIATE transaction: the write lock is taken before the last record is read,
 * so two appenders cannot both chain onto the same record.
 */
export function appendAudit(c: WriteContext, r: NewAuditRecord): AuditRecord {
  const last = (c.stmt('auditLast').get() as { seq: number; at: number; hash: string } | undefined) ?? null;
  const rec = chainNext(last, r);
  c.stmt('insertAudit').run({
    seq: rec.seq,
    at: rec.at,
    actor: rec.actor,
    action: rec.action,
    target: rec.target,
    request_id: rec.requestId,
    outcome: rec.outcome,
    detail: canonicalJson(rec.detail),
    prev_hash: rec.prevHash,
    hash: rec.hash,
  });
  return rec;
}
