// Dead letters of the PostgreSQL store: listed, and retried (back to open, attempts reset).
import { HubError } from '../../errors.js';
import { type InboxRow, toInboxItem } from '../rows.js';
import type { DeadLetter, Store } from '../store.js';
import type { Connection } from './connection.js';
import { QueueCounts } from './queue-stats.js';

export class DeadLetters implements Pick<Store, 'deadLetters' | 'retryDead'> {
  constructor(private readonly conn: Connection) {}

  async deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]> {
    this.conn.live();
    const rows = await this.conn.rows<InboxRow & { d_dead_reason: string; d_dead_at: number }>('deadLetters', [agentId, limit]);
    return rows.map((r) => ({ item: toInboxItem(r), attempts: r.d_attempts, reason: r.d_dead_reason, deadAt: r.d_dead_at }));
  }

  async retryDead(agentId: string | null, messageIds: string[] | null, _now: number): Promise<[string, string][]> {
    this.conn.live();
    return this.conn.tx(async (c) => {
      const dead = await this.conn.rows<{ recipient: string; id: string; seq: number; attempts: number }>('deadOf', [agentId], c);
      if (messageIds !== null) {
        const missing = messageIds.filter((id) => !dead.some((d) => d.id === id));
        if (missing.length > 0) {
          throw new HubError('message_not_found', `not in the dead letters${agentId === null ? '' : ` of ${agentId}`}: ${missing.join(', ')}`, { details: { messages: missing } });
        }
      }
      const chosen = messageIds === null ? dead : dead.filter((d) => messageIds.includes(d.id));
      if (chosen.length > 0) {
        await this.conn.q('retryDead', [chosen.map((d) => d.recipient), chosen.map((d) => d.seq)], c);
        // Back to open with attempts reset: their redeliveries no longer count (as in SQLite).
        const counts = new QueueCounts();
        for (const d of chosen) counts.add(d.recipient, { open: 1, dead: -1, redeliveries: -Math.max(d.attempts - 1, 0) });
        await this.conn.q('addQueueCounts', counts.params(), c);
      }
      return chosen.map((d): [string, string] => [d.recipient, d.id]);
    });
  }
}
