// Retention of the SQLite store (hub/retention.ts decides what goes): candidates read a window of
// seqs at a time, and each batch is removed in one relaxed transaction (the next durable commit
// fsyncs it; a deletion lost to a power cut is made again by the next pass).
import { type MessageRow, toMessage } from '../rows.js';
import type { RetentionCandidate, Store } from '../store.js';
import { relaxed } from './commits.js';
import type { Connection } from './connection.js';

export class Retention implements Pick<Store, 'retentionCandidates' | 'nextMessageAfter' | 'deleteMessages'> {
  constructor(private readonly conn: Connection) {}

  async retentionCandidates(afterSeq: number, window: number, before: number): Promise<RetentionCandidate[]> {
    this.conn.live();
    const rows = this.conn.stmt('retentionCandidates').all({ after: afterSeq, window, before }) as (MessageRow & { channels: string })[];
    return rows.map((r) => ({ seq: r.seq, message: toMessage(r), channels: JSON.parse(r.channels) as string[] }));
  }

  async nextMessageAfter(afterSeq: number): Promise<{ seq: number; createdAt: number } | null> {
    this.conn.live();
    const r = this.conn.stmt('nextMessageAfter').get(afterSeq) as { seq: number; created_at: number } | undefined;
    return r === undefined ? null : { seq: r.seq, createdAt: r.created_at };
  }

  async deleteMessages(seqs: number[]): Promise<number> {
    this.conn.live();
    if (seqs.length === 0) return 0;
    return relaxed(this.conn.db, this.conn.full, () => {
      let n = 0;
      for (const seq of seqs) {
        // One reopened since the candidates were read (a dead letter retried) keeps its message.
        if ((this.conn.stmt('retentionStillClosed').get({ seq }) as { closed: number }).closed !== 1) continue;
        this.conn.stmt('retentionDeleteDeliveries').run(seq);
        this.conn.stmt('retentionDeleteChannels').run(seq);
        n += this.conn.stmt('retentionDeleteMessage').run(seq).changes;
      }
      return n;
    });
  }
}
