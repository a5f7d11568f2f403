// Delivery targets of the SQLite store: the targets, and their queues of pushes (leased by the
// worker's deliverers in src/delivery/). Queued in the send's transaction (commits.ts,
// queueForTargets); leased, settled and counted here, in relaxed transactions: a lease or a
// settlement lost to a power cut only means a push is made again, which at-least-once allows.
import type { BreakerState } from '../../domain/target.js';
import { type MessageRow, toMessage } from '../rows.js';
import type { NewTarget, Store, TargetBacklog, TargetLease, TargetOutcome, TargetRecord } from '../store.js';
import { type TargetRow, targetParams, toTarget } from '../target-rows.js';
import { relaxed } from './commits.js';
import type { Connection } from './connection.js';

interface SqliteTargetRow extends TargetRow {
  types: string | null;
  channels: string | null;
  senders: string | null;
}

const list = (v: string | null): string[] | null => (v === null ? null : (JSON.parse(v) as string[]));
const fromRow = (r: SqliteTargetRow): TargetRecord => toTarget(r, { types: list(r.types), channels: list(r.channels), senders: list(r.senders) });
const json = (v: string[] | null): string | null => (v === null ? null : JSON.stringify(v));

type DueRow = MessageRow & { message_seq: number; attempts: number; owner: string | null };

export class Targets
  implements Pick<Store, 'createTarget' | 'getTarget' | 'listTargets' | 'removeTarget' | 'leaseTargetDeliveries' | 'settleTargetDelivery' | 'targetBacklog' | 'retryTargetDead' | 'noteTargetBreaker' | 'storeTargetSecret'>
{
  constructor(private readonly conn: Connection) {}

  async createTarget(t: NewTarget): Promise<TargetRecord> {
    this.conn.live();
    this.conn.stmt('insertTarget').run({ ...targetParams(t), types: json(t.filter.types), channels: json(t.filter.channels), senders: json(t.filter.senders) });
    return fromRow(this.conn.stmt('getTarget').get(t.id) as SqliteTargetRow);
  }

  async getTarget(id: string): Promise<TargetRecord | null> {
    this.conn.live();
    const row = this.conn.stmt('getTarget').get(id) as SqliteTargetRow | undefined;
    return row === undefined ? null : fromRow(row);
  }

  async listTargets(agentId: string | null): Promise<TargetRecord[]> {
    this.conn.live();
    const rows = (agentId === null ? this.conn.stmt('listAllTargets').all() : this.conn.stmt('listTargets').all(agentId)) as SqliteTargetRow[];
    return rows.map(fromRow);
  }

  async removeTarget(id: string): Promise<boolean> {
    this.conn.live();
    return this.conn.db.transaction(() => {
      this.conn.stmt('deleteTargetDeliveries').run(id);
      return this.conn.stmt('deleteTarget').run(id).changes > 0;
    })();
  }

  async leaseTargetDeliveries(targetId: string, owner: string, limit: number, now: number, visibilityMs: number, maxAttempts: number): Promise<TargetLease[]> {
    this.conn.live();
    return relaxed(this.conn.db, this.conn.full, () => {
      const due = this.conn.stmt('dueTargetDeliveries').all({ target: targetId, now, limit }) as DueRow[];
      const out: TargetLease[] = [];
      for (const r of due) {
        // Leased before and never settled: the worker holding it died or lost it.
        if (r.owner !== null && r.attempts >= maxAttempts) {
          this.conn.stmt('killTargetDelivery').run({ target: targetId, seq: r.message_seq, error: `no answer from the worker that held attempt ${r.attempts} of ${maxAttempts} (lease ran out)` });
          continue;
        }
        this.conn.stmt('leaseTargetDelivery').run({ target: targetId, seq: r.message_seq, owner, until: now + visibilityMs });
        out.push({ targetId, message: toMessage(r), attempt: r.attempts + 1 });
      }
      return out;
    });
  }

  async settleTargetDelivery(targetId: string, messageId: string, owner: string, o: TargetOutcome): Promise<boolean> {
    this.conn.live();
    return relaxed(this.conn.db, this.conn.full, () => {
      const row = this.conn.stmt('targetDeliveryOf').get(targetId, messageId) as { message_seq: number; owner: string | null; state: string } | undefined;
      if (row === undefined || row.owner !== owner || row.state !== 'pending') return false;
      if (o.ok) {
        this.conn.stmt('doneTargetDelivery').run(targetId, row.message_seq);
        this.conn.stmt('targetSucceeded').run({ at: o.at, id: targetId });
      } else {
        if (o.dead) this.conn.stmt('killTargetDelivery').run({ target: targetId, seq: row.message_seq, error: o.error });
        else this.conn.stmt('retryTargetDelivery').run({ target: targetId, seq: row.message_seq, retry_at: o.retryAt, error: o.error });
        this.conn.stmt('targetFailed').run(o.error, o.at, targetId);
      }
      return true;
    });
  }

  async targetBacklog(targetIds: string[]): Promise<Map<string, TargetBacklog>> {
    this.conn.live();
    const out = new Map<string, TargetBacklog>(targetIds.map((id) => [id, { pending: 0, dead: 0, oldestAt: null }]));
    const rows = this.conn.stmt('targetBacklog').all(JSON.stringify(targetIds)) as { target_id: string; pending: number; dead: number; oldest_at: number | null }[];
    for (const r of rows) out.set(r.target_id, { pending: r.pending, dead: r.dead, oldestAt: r.oldest_at });
    return out;
  }

  async noteTargetBreaker(targetId: string, b: BreakerState): Promise<void> {
    this.conn.live();
    relaxed(this.conn.db, this.conn.full, () => this.conn.stmt('noteTargetBreaker').run(b.state, b.until, targetId));
  }

  async storeTargetSecret(targetId: string, secret: string, sealedUnder: string | null): Promise<void> {
    this.conn.live();
    this.conn.stmt('storeTargetSecret').run(secret, sealedUnder, targetId);
  }

  async retryTargetDead(targetId: string, now: number): Promise<number> {
    this.conn.live();
    return relaxed(this.conn.db, this.conn.full, () => this.conn.stmt('retryTargetDead').run(now, targetId).changes);
  }
}
