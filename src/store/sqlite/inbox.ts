// An agent's deliveries in the SQLite store: the inbox walk (per priority, from the agent's floors),
// single items, reads, and the commit step of the acks' group commit. A delivery leased in memory
// (leases.ts) is shown as the lease sees it, since its row learns so only when the lease ends.
import type { InboxItem } from '../../domain/message.js';
import { type InboxRow, toInboxItem } from '../rows.js';
import type { AckResult, InboxQuery, Store } from '../store.js';
import { type AckDone, type AckRequest, fromErrorData, isErrorData, knownRows, type Outcome } from './commits.js';
import type { Connection } from './connection.js';
import type { Floors } from './floors.js';
import { type AgentQueue, RANKS } from './lease-book.js';

/** One ack call waiting for the acks' group commit. */
export interface AckItem {
  agentId: string;
  messageIds: string[];
  at: number;
  strict: boolean;
}

export class Inbox implements Pick<Store, 'inbox' | 'inboxItem' | 'markRead'> {
  private readonly queues: Map<string, AgentQueue>;

  constructor(
    private readonly conn: Connection,
    private readonly floors: Floors,
  ) {
    this.queues = conn.queues;
  }

  async inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    this.conn.live();
    const at = Date.now();
    const states = JSON.stringify(q.states);
    return this.conn.relaxed(() => {
      let rows: InboxRow[];
      if (q.states.includes('acked')) rows = this.conn.stmt('inboxAll').all({ recipient: agentId, states, limit: q.limit }) as InboxRow[];
      else {
        rows = [];
        const open = this.conn.stmt('inboxOpen');
        for (let rank = RANKS - 1; rank >= 0 && rows.length < q.limit; rank--) {
          const [indexed, fanout] = this.floors.of(agentId, rank);
          rows.push(...(open.all({ recipient: agentId, rank, floor_indexed: indexed, floor_fanout: fanout, states, now: at, limit: q.limit - rows.length }) as InboxRow[]));
        }
      }
      const mark = this.conn.stmt('markDelivered');
      for (const r of rows) {
        this.overlay(r);
        if (r.d_state === 'pending') {
          mark.run({ recipient: agentId, seq: r.seq, at });
          r.d_state = 'delivered';
          r.d_delivered_at = at;
          const e = this.queues.get(agentId)?.find(r.id, r.priority, r.seq);
          if (e !== undefined && e.state === 'pending') {
            e.state = 'delivered';
            e.deliveredAt = at;
          }
        }
      }
      return rows.map(toInboxItem);
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
    this.conn.live();
    return this.conn.db.transaction(() => {
      const row = this.conn.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow | undefined;
      if (row === undefined) return null;
      if (this.conn.stmt('markRead').run({ recipient: agentId, seq: row.seq, at }).changes > 0) {
        const e = this.queues.get(agentId)?.find(row.id, row.priority, row.seq);
        if (e !== undefined) {
          e.state = 'read';
          e.readAt = at;
          e.deliveredAt ??= at;
        }
      }
      return toInboxItem(this.overlay(this.conn.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow));
    }).immediate();
  }

  /**
   * One group commit of acks (commits.ts). A delivery leased here is known to be open, and its row
   * is known: the commit needs no lookup for it.
   */
  commitAcks(items: AckItem[]): (AckResult | Error)[] | Promise<(AckResult | Error)[]> {
    const reqs: AckRequest[] = items.map((it) => {
      const q = this.queues.get(it.agentId);
      return { agentId: it.agentId, at: it.at, strict: it.strict, ids: it.messageIds, known: knownRows(it.messageIds, (id) => q?.leases.get(id)) };
    });
    const w = this.conn.writer;
    if (w === null) return this.applyAcks(reqs, this.conn.commits.acks(reqs));
    return w.call('acks', reqs).then((o) => this.applyAcks(reqs, o as Outcome<AckDone>[]));
  }

  /** Acknowledged deliveries leave the hand-out queues. */
  private applyAcks(reqs: AckRequest[], outcomes: Outcome<AckDone>[]): (AckResult | Error)[] {
    return outcomes.map((o, i): AckResult | Error => {
      if (isErrorData(o)) return fromErrorData(o);
      const q = this.queues.get((reqs[i] as AckRequest).agentId);
      if (q !== undefined) for (const [id, rank, seq] of o.acked) q.forget(id, rank, seq);
      return { acked: o.acked.map(([id]) => id), already: o.already };
    });
  }
}
