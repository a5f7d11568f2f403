// The audit chain of the PostgreSQL store: appenders in every process queue on a table lock, so
// that each record chains to the one before it (domain/audit.ts chainNext).
import type pg from 'pg';
import { type AuditRecord, canonicalJson, chainNext, type NewAuditRecord } from '../../domain/audit.js';
import { type AuditRow, toAuditRecord } from '../audit-rows.js';
import type { AuditCheckpoint, AuditQuery, Store } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

export class Audit implements Pick<Store, 'appendAudit' | 'auditRecords' | 'auditChain' | 'trimAudit' | 'auditCheckpoint'> {
  constructor(private readonly conn: Connection) {}

  async appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    this.conn.live();
    const [rec] = await this.conn.tx((c) => this.appendIn(c, [r]));
    return rec as AuditRecord;
  }

  /**
   * Appends records inside the caller's transaction on `c`: an act and its audit records commit
   * together or not at all (store.ts AuditOf). The table lock is held to the commit.
   */
  async appendIn(c: pg.PoolClient, records: readonly NewAuditRecord[]): Promise<AuditRecord[]> {
    if (records.length === 0) return [];
    const details = records.map((r) => canonicalJson(r.detail));
    for (const [i, r] of records.entries()) {
      const bad = refuseNul('the audit record', r.actor, r.action, r.target, r.requestId, details[i] ?? '');
      if (bad !== null) throw bad;
    }
    // Every process's appenders queue here: the last record read is still the last at insert.
    await this.conn.q('lockAudit', [], c);
    let last: Pick<AuditRecord, 'seq' | 'at' | 'hash'> | null = (await this.conn.rows<{ seq: number; at: number; hash: string }>('auditLast', [], c))[0] ?? null;
    const out: AuditRecord[] = [];
    for (const [i, r] of records.entries()) {
      const rec = chainNext(last, r);
      await this.conn.q('insertAudit', [rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.requestId, rec.outcome, details[i], rec.prevHash, rec.hash], c);
      out.push(rec);
      last = rec;
    }
    return out;
  }

  async auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    this.conn.live();
    return (await this.conn.rows<AuditRow>('auditRecords', [q.since ?? null, q.actor ?? null, q.action ?? null, q.limit])).map(toAuditRecord);
  }

  async auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.conn.live();
    return (await this.conn.rows<AuditRow>('auditChain', [afterSeq, limit])).map(toAuditRecord);
  }

  async trimAudit(before: number, limit: number, now: number): Promise<number> {
    this.conn.live();
    return this.conn.tx(async (c) => {
      await this.conn.q('lockAudit', [], c);
      return (await this.conn.rows<{ n: number }>('auditTrim', [before, limit, now], c))[0]?.n ?? 0;
    });
  }

  async auditCheckpoint(): Promise<AuditCheckpoint | null> {
    this.conn.live();
    const [r] = await this.conn.rows<{ seq: string | number; hash: string; at: string | number; trimmed_at: string | number }>('auditCheckpoint', []);
    return r === undefined ? null : { seq: Number(r.seq), hash: r.hash, at: Number(r.at), trimmedAt: Number(r.trimmed_at) };
  }
}
