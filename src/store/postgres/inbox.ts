// An agent's deliveries read as an inbox: listed, one item, marked read, and acknowledged. Acks are
// group-committed (the store's GroupCommit calls commitAcks with one transaction per batch).
import type pg from 'pg';
import type { InboxItem } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { type InboxRow, toInboxItem } from '../rows.js';
import type { AckResult, InboxQuery, Store } from '../store.js';
import type { Connection } from './connection.js';
import { key } from './nul.js';

/** One ack as the store submits it to its group commit. */
export interface AckItem {
  agentId: string;
  messageIds: string[];
  at: number;
  strict: boolean;
}

export function notInInbox(agentId: string, id: string): HubError {
  return new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } });
}

export class Inbox implements Pick<Store, 'inbox' | 'inboxItem' | 'markRead'> {
  constructor(private readonly conn: Connection) {}

  async inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    this.conn.live();
    const query = q.states.includes('acked') ? 'inboxAll' : 'inboxOpen';
    return (await this.conn.rows<InboxRow>(query, [agentId, [...q.states], q.limit, Date.now()])).map(toInboxItem);
  }

  async inboxItem(agentId: string, messageId: string): Promise<InboxItem | null> {
    this.conn.live();
    const [row] = await this.conn.rows<InboxRow>('inboxItem', [agentId, messageId]);
    return row === undefined ? null : toInboxItem(row);
  }

  async markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null> {
    this.conn.live();
    await this.conn.q('markRead', [agentId, messageId, at]);
    return this.inboxItem(agentId, messageId);
  }

  /**
   * One group commit of acks: every delivery named in the batch is locked and read at once, each
   * item is decided in order (all or nothing, as if the items ran one after another), then one
   * statement acknowledges what was decided.
   */
  async commitAcks(c: pg.PoolClient, items: AckItem[]): Promise<(AckResult | Error)[]> {
    const pairs = items.flatMap((it) => [...new Set(it.messageIds)].map((id) => [it.agentId, id] as const));
    const found = await this.conn.rows<{ recipient: string; id: string; seq: number; state: string }>(
      'lockDeliveries',
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      c,
    );
    const byKey = new Map(found.map((r) => [key(r.recipient, r.id), r]));
    const ackedNow = new Set<string>();
    const update: { recipient: string[]; seq: number[]; at: number[]; was: string[] } = { recipient: [], seq: [], at: [], was: [] };
    const out = items.map((it): AckResult | Error => {
      const rows = [];
      for (const id of it.messageIds) {
        const row = byKey.get(key(it.agentId, id));
        if (row === undefined) return notInInbox(it.agentId, id);
        rows.push(row);
      }
      const isAcked = (r: { recipient: string; id: string; state: string }): boolean => r.state === 'acked' || ackedNow.has(key(r.recipient, r.id));
      if (it.strict) {
        const done = rows.filter(isAcked).map((r) => r.id);
        if (done.length > 0) return new HubError('already_acked', `already acknowledged: ${done.join(', ')}`, { details: { messages: done } });
      }
      const result: AckResult = { acked: [], already: [] };
      for (const row of rows) {
        if (!isAcked(row)) {
          ackedNow.add(key(row.recipient, row.id));
          update.recipient.push(row.recipient);
          update.seq.push(row.seq);
          update.at.push(it.at);
          update.was.push(row.state);
          result.acked.push(row.id);
        } else if (!result.already.includes(row.id) && !result.acked.includes(row.id)) result.already.push(row.id);
      }
      return result;
    });
    if (update.seq.length > 0) await this.conn.q('markAcked', [update.recipient, update.seq, update.at, update.was], c);
    return out;
  }
}
