// The audit chain of the PostgreSQL store: appenders in every process queue on a table lock, so
// that each record chains to the one before it (domain/audit.ts chainNext).
import { type AuditRecord, canonicalJson, chainNext, type NewAuditRecord } from '../../domain/audit.js';
import { type AuditRow, toAuditRecord } from '../audit-rows.js';
import type { AuditQuery, Store } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

export class Audit implements Pick<Store, 'appendAudit' | 'auditRecords' | 'auditChain'> {
  constructor(private readonly conn: Connection) {}

  async appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    this.conn.live();
    const detail = canonicalJson(r.detail);
    const bad = refuseNul('the audit record', r.actor, r.action, r.target, r.requestId, detail);
    if (bad !== null) throw bad;
    return this.conn.tx(async (c) => {
      // Every process's appenders queue here: the last record read is still the last at insert.
      await this.conn.q('lockAudit', [], c);
      const last = (await this.conn.rows<{ seq: number; at: number; hash: string }>('auditLast', [], c))[0] ?? null;
      const rec = chainNext(last, r);
      await this.conn.q('insertAudit', [rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.requestId, rec.outcome, detail, rec.prevHash, rec.hash], c);
      return rec;
    });
  }

  async auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    this.conn.live();
    return (await this.conn.rows<AuditRow>('auditRecords', [q.since ?? null, q.actor ?? null, q.action ?? null, q.limit])).map(toAuditRecord);
  }

  async auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.conn.live();
    return (await this.conn.rows<AuditRow>('auditChain', [afterSeq, limit])).map(toAuditRecord);
  }
}
