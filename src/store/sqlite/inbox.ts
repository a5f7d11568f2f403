// An agent's deliveries in the SQLite store: the inbox walk (per priority, from the agent's floors),
// single items, reads, and the commit step of the acks' group commit. A delivery leased in memory
// (leases.ts) is shown as the lease sees it, since its row learns so only when the lease ends.
// Marking deliveries delivered or read is written on the writer thread (the functions at the end,
// run by writes.ts).
import type { InboxItem } from '../../domain/message.js';
import { type InboxRow, toInboxItem } from '../rows.js';
import type { AckResult, InboxQuery, Store } from '../store.js';
import { type AckBatchDone, type AckItem, ackBatch, ackResults } from './ack-batch.js';
import { fromErrorData, isErrorData } from './commits.js';
import type { Connection } from './connection.js';
import type { WriteContext } from './writes.js';
import type { Floors } from './floors.js';
import { type AgentQueue, RANKS } from './lease-book.js';

export type { AckItem };

export class Inbox implements Pick<Store, 'inbox' | 'inboxItem' | 'markRead'> {
  private readonly queues: Map<string, AgentQueue>;

  constructor(
    private readonly conn: Connection,
    private readonly floors: Floors,
  ) {
    this.queues = conn.queues;
  }

  /**
   * The walk reads on the hub's connection; the listed deliveries still pending are then marked
   * delivered on the writer thread (writes.ts). One changed meanwhile (acknowledged, read) is
   * read again, so the answer says what the row says.
   */
  async inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    this.conn.live();
    const at = Date.now();
    const states = JSON.stringify(q.states);
    const rows = this.conn.db.transaction(() => {
      if (q.states.includes('acked')) return this.conn.stmt('inboxAll').all({ recipient: agentId, states, limit: q.limit }) as InboxRow[];
      const found: InboxRow[] = [];
      const open = this.conn.stmt('inboxOpen');
      for (let rank = RANKS - 1; rank >= 0 && found.length < q.limit; rank--) {
        const [indexed, fanout] = this.floors.of(agentId, rank);
        found.push(...(open.all({ recipient: agentId, rank, floor_indexed: indexed, floor_fanout: fanout, states, now: at, limit: q.limit - found.length }) as InboxRow[]));
      }
      return found;
    })();
    const pending = rows.map((r) => this.overlay(r)).filter((r) => r.d_state === 'pending');
    if (pending.length === 0) return rows.map(toInboxItem);
    const marked = new Set(await this.conn.write('markDelivered', { agentId, seqs: pending.map((r) => r.seq), at }));
    return rows.map((r) => {
      if (r.d_state !== 'pending') return toInboxItem(r);
      if (!marked.has(r.seq)) {
        const now = this.conn.stmt('inboxItem').get({ recipient: agentId, id: r.id }) as InboxRow | undefined;
        return toInboxItem(this.overlay(now ?? r));
      }
      r.d_state = 'delivered';
      r.d_delivered_at = at;
      const e = this.queues.get(agentId)?.find(r.id, r.priority, r.seq);
      if (e !== undefined && e.state === 'pending') {
        e.state = 'delivered';
        e.deliveredAt = at;
      }
      return toInboxItem(r);
    });
  }

  /** A delivery leased here is delivered, though its row learns so only when the lease ends. */
  private overlay(r: InboxRow): InboxRow {
    const e = this.queues.get(r.d_recipient)?.leases.get(r.id);
    if (e !== undefined && r.d_state === 'pending') {
      r.d_state = e.state;
      r.d_delivered_at = e.deliveredAt;
    }
    if (e !== undefined) r.d_attempts = Math.max(r.d_attempts, e.attempts);
    return r;
  }

  async inboxItem(agentId: string, messageId: string): Promise<InboxItem | null> {
    this.conn.live();
    const row = this.conn.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow | undefined;
    return row === undefined ? null : toInboxItem(this.overlay(row));
  }

  async markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null> {
    const marked = await this.conn.write('markRead', { agentId, messageId, at });
    if (marked === null) return null;
    if (marked.changed) {
      const e = this.queues.get(agentId)?.find(messageId, marked.priority, marked.seq);
      if (e !== undefined) {
        e.state = 'read';
        e.readAt = at;
        e.deliveredAt ??= at;
      }
    }
    const row = this.conn.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow | undefined;
    return row === undefined ? null : toInboxItem(this.overlay(row));
  }

  /**
   * One group commit of acks (commits.ts), as one batch (ack-batch.ts). A delivery leased here is
   * known to be open, and its row is known: the commit needs no lookup for it.
   */
  commitAcks(items: AckItem[]): (AckResult | Error)[] | Promise<(AckResult | Error)[]> {
    const batch = ackBatch(items, (agentId, id) => this.queues.get(agentId)?.leases.get(id));
    const out = this.conn.commit<AckBatchDone>('acks', [batch], () => this.conn.commits.acks([batch]));
    const apply = (done: AckBatchDone[]): (AckResult | Error)[] =>
      // Acknowledged deliveries leave the hand-out queues.
      ackResults(items, batch, done[0] as AckBatchDone, (agentId, id, rank, seq) => this.queues.get(agentId)?.forget(id, rank, seq)).map((r) =>
        isErrorData(r) ? fromErrorData(r) : r,
      );
    return out instanceof Promise ? out.then(apply) : apply(out);
  }
}

// ---- the writes, each in a transaction of the writer's (writes.ts) --------------------------------

/** Listed deliveries still pending become delivered; returns the seqs of those that did. */
export function markDelivered(c: WriteContext, a: { agentId: string; seqs: number[]; at: number }): number[] {
  const mark = c.stmt('markDelivered');
  return a.seqs.filter((seq) => mark.run({ recipient: a.agentId, seq, at: a.at }).changes > 0);
}

/** Marks one delivery read; null when the agent has none of that message. */
export function markRead(c: WriteContext, a: { agentId: string; messageId: string; at: number }): { seq: number; priority: InboxRow['priority']; changed: boolean } | null {
  const row = c.stmt('inboxItem').get({ recipient: a.agentId, id: a.messageId }) as InboxRow | undefined;
  if (row === undefined) return null;
  const changed = c.stmt('markRead').run({ recipient: a.agentId, seq: row.seq, at: a.at }).changes > 0;
  return { seq: row.seq, priority: row.priority, changed };
}
