// Retention of the PostgreSQL store (hub/retention.ts decides what goes).
import { type MessageRow, toMessage } from '../rows.js';
import type { RetentionCandidate, Store } from '../store.js';
import type { Connection } from './connection.js';

export class Retention implements Pick<Store, 'retentionCandidates' | 'nextMessageAfter' | 'deleteMessages'> {
  constructor(private readonly conn: Connection) {}

  async retentionCandidates(afterSeq: number, window: number, before: number): Promise<RetentionCandidate[]> {
    this.conn.live();
    const rows = await this.conn.rows<MessageRow & { channels: string[] }>('retentionCandidates', [afterSeq, window, before]);
    return rows.map((r) => ({ seq: Number(r.seq), message: toMessage(r), channels: r.channels }));
  }

  async nextMessageAfter(afterSeq: number): Promise<{ seq: number; createdAt: number } | null> {
    this.conn.live();
    const [r] = await this.conn.rows<{ seq: string | number; created_at: string | number }>('nextMessageAfter', [afterSeq]);
    return r === undefined ? null : { seq: Number(r.seq), createdAt: Number(r.created_at) };
  }

  async deleteMessages(seqs: number[]): Promise<number> {
    this.conn.live();
    if (seqs.length === 0) return 0;
    return (await this.conn.tx((c) => this.conn.q('deleteMessages', [seqs], c), true)).rowCount ?? 0;
  }
}
