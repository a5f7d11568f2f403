// Dead letters of the SQLite store: deliveries handed out too often without an ack. Listing them,
// and retrying them: open again, so the agent's floors go back to them and the hand-out queues
// that cover them take them in.
import { HubError } from '../../errors.js';
import { type InboxRow, toInboxItem } from '../rows.js';
import type { DeadLetter, Store } from '../store.js';
import type { Connection } from './connection.js';
import type { Floors } from './floors.js';
import { newEntry, PAGE, READY_MAX } from './leases.js';

/** A dead letter as retryDead reads it (queries.sql: deadOf). */
interface DeadRow {
  recipient: string;
  id: string;
  seq: number;
  rank: number;
  fanout: number;
  delivered_at: number | null;
  read_at: number | null;
  expires_at: number | null;
}

export class DeadLetters implements Pick<Store, 'deadLetters' | 'retryDead'> {
  constructor(
    private readonly conn: Connection,
    private readonly floors: Floors,
  ) {}

  async deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]> {
    this.conn.live();
    const rows = this.conn.stmt('deadLetters').all({ recipient: agentId, limit }) as (InboxRow & { d_dead_reason: string; d_dead_at: number })[];
    return rows.map((r) => ({ item: toInboxItem(r), attempts: r.d_attempts, reason: r.d_dead_reason, deadAt: r.d_dead_at }));
  }

  async retryDead(agentId: string | null, messageIds: string[] | null, _now: number): Promise<[string, string][]> {
    this.conn.live();
    const chosen = this.conn.db.transaction(() => {
      const dead = this.conn.stmt('deadOf').all({ recipient: agentId }) as DeadRow[];
      if (messageIds !== null) {
        const missing = messageIds.filter((id) => !dead.some((d) => d.id === id));
        if (missing.length > 0) {
          throw new HubError('message_not_found', `not in the dead letters${agentId === null ? '' : ` of ${agentId}`}: ${missing.join(', ')}`, { details: { messages: missing } });
        }
      }
      const picked = messageIds === null ? dead : dead.filter((d) => messageIds.includes(d.id));
      const retry = this.conn.stmt('retryDeadOne');
      const lower = this.conn.stmt('lowerFloors');
      for (const d of picked) {
        retry.run({ recipient: d.recipient, seq: d.seq });
        lower.run({ recipient: d.recipient, rank: d.rank, seq: d.seq });
      }
      return picked;
    }).immediate();
    // Open again: back into the hand-out queues that cover them.
    for (const d of chosen) {
      this.floors.lower(d.recipient, d.rank, d.seq);
      const q = this.conn.queues.get(d.recipient);
      if (q === undefined || !q.covers(d.rank, d.seq)) continue;
      const e = newEntry(d.seq, d.rank, d.fanout === 1, d.id, d.expires_at);
      e.deliveredAt = d.delivered_at;
      e.readAt = d.read_at;
      q.insert(e);
      if (q.readyCount() > READY_MAX) q.trim(PAGE);
    }
    return chosen.map((d): [string, string] => [d.recipient, d.id]);
  }
}
