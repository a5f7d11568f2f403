// Delivery targets of the PostgreSQL store, and their queues of pushes (queued by appendMessages in
// the send's statement). Leases and settlements commit without waiting for the WAL flush
// (Connection.tx relaxed): one lost in a crash only means a push is made again.
import type { BreakerState } from '../../domain/target.js';
import { type MessageRow, toMessage } from '../rows.js';
import type { NewTarget, Store, TargetBacklog, TargetLease, TargetOutcome, TargetRecord } from '../store.js';
import { type TargetRow, targetParams, toTarget } from '../target-rows.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

interface PgTargetRow extends TargetRow {
  types: string[] | null;
  channels: string[] | null;
  senders: string[] | null;
}

const fromRow = (r: PgTargetRow): TargetRecord => toTarget(r, r);

export class Targets
  implements Pick<Store, 'createTarget' | 'getTarget' | 'listTargets' | 'removeTarget' | 'leaseTargetDeliveries' | 'settleTargetDelivery' | 'targetBacklog' | 'retryTargetDead' | 'noteTargetBreaker' | 'storeTargetSecret'>
{
  constructor(private readonly conn: Connection) {}

  async createTarget(t: NewTarget): Promise<TargetRecord> {
    this.conn.live();
    const p = targetParams(t);
    const bad = refuseNul('the target', String(p.settings), t.secret, t.agentId, t.createdBy, ...(t.filter.types ?? []), ...(t.filter.channels ?? []), ...(t.filter.senders ?? []));
    if (bad !== null) throw bad;
    const [row] = await this.conn.rows<PgTargetRow>('insertTarget', [
      p.id, p.agent_id, p.kind, p.settings, p.secret, p.secret_sealed, p.min_priority, t.filter.types, t.filter.channels, t.filter.senders, p.created_by, p.created_at,
    ]);
    return fromRow(row as PgTargetRow);
  }

  async getTarget(id: string): Promise<TargetRecord | null> {
    this.conn.live();
    if (id.includes('\0')) return null;
    const [row] = await this.conn.rows<PgTargetRow>('getTarget', [id]);
    return row === undefined ? null : fromRow(row);
  }

  async listTargets(agentId: string | null): Promise<TargetRecord[]> {
    this.conn.live();
    if (agentId?.includes('\0') === true) return [];
    const rows = agentId === null ? await this.conn.rows<PgTargetRow>('listAllTargets', []) : await this.conn.rows<PgTargetRow>('listTargets', [agentId]);
    return rows.map(fromRow);
  }

  async removeTarget(id: string): Promise<boolean> {
    this.conn.live();
    if (id.includes('\0')) return false;
    return ((await this.conn.q('deleteTarget', [id])).rowCount ?? 0) > 0;
  }

  async leaseTargetDeliveries(targetId: string, owner: string, limit: number, now: number, visibilityMs: number, maxAttempts: number): Promise<TargetLease[]> {
    this.conn.live();
    const rows = await this.conn.tx((c) => this.conn.rows<MessageRow & { td_attempts: number }>('leaseTargetDeliveries', [targetId, owner, limit, now, now + visibilityMs, maxAttempts], c), true);
    return rows.map((r) => ({ targetId, message: toMessage(r), attempt: r.td_attempts }));
  }

  async settleTargetDelivery(targetId: string, messageId: string, owner: string, o: TargetOutcome): Promise<boolean> {
    this.conn.live();
    const outcome = o.ok ? 'done' : o.dead ? 'dead' : 'retry';
    const error = o.ok ? null : o.error.replaceAll('\0', '');
    const rows = await this.conn.tx((c) => this.conn.rows<{ n: number }>('settleTargetDelivery', [targetId, messageId, owner, outcome, o.ok ? 0 : o.retryAt, error, o.at], c), true);
    return (rows[0]?.n ?? 0) > 0;
  }

  async targetBacklog(targetIds: string[]): Promise<Map<string, TargetBacklog>> {
    this.conn.live();
    const out = new Map<string, TargetBacklog>(targetIds.map((id) => [id, { pending: 0, dead: 0, oldestAt: null }]));
    const rows = await this.conn.rows<{ target_id: string; pending: number; dead: number; oldest_at: string | null }>('targetBacklog', [targetIds]);
    for (const r of rows) out.set(r.target_id, { pending: r.pending, dead: r.dead, oldestAt: r.oldest_at === null ? null : Number(r.oldest_at) });
    return out;
  }

  async noteTargetBreaker(targetId: string, b: BreakerState): Promise<void> {
    this.conn.live();
    await this.conn.q('noteTargetBreaker', [targetId, b.state, b.until]);
  }

  async storeTargetSecret(targetId: string, secret: string, sealedUnder: string | null): Promise<void> {
    this.conn.live();
    await this.conn.q('storeTargetSecret', [targetId, secret, sealedUnder]);
  }

  async retryTargetDead(targetId: string, now: number): Promise<number> {
    this.conn.live();
    return (await this.conn.q('retryTargetDead', [targetId, now])).rowCount ?? 0;
  }
}
