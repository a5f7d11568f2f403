// Encryption at rest in the SQLite store: the scan and the batched rewrite of stored message
// content that a key rotation makes, with the rotation's progress committed in the same
// transaction (so that it resumes exactly after a restart), and the rotations themselves.
import { type KeyRotationRow, keyRotationParams, type MessageRow, toKeyRotation, toMessage } from '../rows.js';
import { type KeyRotation, runningError, type SealedContent, type StoredMessage } from '../sealing.js';
import type { Store } from '../store.js';
import type { Connection } from './connection.js';
import type { RecentMessages } from './recent-messages.js';

export class Sealing implements Pick<Store, 'scanMessages' | 'sealingSample' | 'keyRotation' | 'beginKeyRotation' | 'saveKeyRotation'> {
  constructor(
    private readonly conn: Connection,
    private readonly recent: RecentMessages,
  ) {}

  async scanMessages(afterId: string | null, limit: number): Promise<StoredMessage[]> {
    this.conn.live();
    return (this.conn.stmt('scanMessages').all({ after: afterId ?? '', limit }) as MessageRow[]).map(toMessage);
  }

  async sealingSample(limit: number): Promise<{ keys: string[]; legacy: StoredMessage[] }> {
    this.conn.live();
    const keys = (this.conn.stmt('sealedEnds').all() as { sealed: string }[]).map((r) => r.sealed);
    const legacy = (this.conn.stmt('legacySealed').all({ limit }) as MessageRow[]).map(toMessage);
    return { keys: [...new Set(keys)], legacy };
  }

  async keyRotation(): Promise<KeyRotation | null> {
    this.conn.live();
    const row = this.conn.stmt('keyRotation').get() as KeyRotationRow | undefined;
    return row === undefined ? null : toKeyRotation(row);
  }

  async beginKeyRotation(r: Omit<KeyRotation, 'total'>, replacing: string | null): Promise<KeyRotation> {
    this.conn.live();
    return this.conn.db
      .transaction(() => {
        if (replacing !== null) this.conn.stmt('abandonKeyRotation').run({ id: replacing, now: r.startedAt, by: r.id });
        const running = this.conn.stmt('keyRotation').get() as KeyRotationRow | undefined;
        if (running?.state === 'running') throw runningError(running.id);
        const total = (this.conn.stmt('messageCount').get() as { n: number }).n;
        const job: KeyRotation = { ...r, total };
        this.conn.stmt('insertKeyRotation').run(keyRotationParams(job));
        return job;
      })
      .immediate();
  }

  async saveKeyRotation(r: KeyRotation, owner: string, contents: SealedContent[]): Promise<boolean> {
    this.conn.live();
    const db = this.conn.db;
    return db
      .transaction(() => {
        if (this.conn.stmt('updateKeyRotation').run({ ...keyRotationParams(r), expected_owner: owner }).changes !== 1) return false;
        const indexed = (this.conn.stmt('indexedSeq').get() as { n: number }).n;
        for (const c of contents) {
          const old = this.conn.stmt('getMessage').get(c.id) as MessageRow | undefined;
          if (old === undefined) continue; // gone (never, today: messages are not deleted)
          this.conn.stmt('rewriteMessage').run({ id: c.id, subject: c.subject, body: c.body, metadata: JSON.stringify(c.metadata), sealed: c.sealed });
          const cached = this.recent.get(old.seq);
          if (cached !== undefined) this.recent.forget(old.seq, cached);
          // The search index holds what it was given; an indexed row is replaced there too.
          if (old.seq <= indexed) {
            this.conn.stmt('ftsDelete').run({ seq: old.seq, subject: old.subject, body: old.body });
            this.conn.stmt('ftsInsert').run({ seq: old.seq, subject: c.subject, body: c.body });
          }
        }
        return true;
      })
      .immediate();
  }
}
