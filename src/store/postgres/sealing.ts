// Encryption at rest in the PostgreSQL store: the scan and the batched rewrite of stored message
// content that a key rotation makes, with the rotation's progress committed in the same
// transaction (so that it resumes exactly after a restart), and the rotations themselves. One
// rotation runs at a time across every process sharing the database (a partial unique index).
import { type KeyRotationRow, keyRotationParams, type MessageRow, toKeyRotation, toMessage } from '../rows.js';
import { type KeyRotation, runningError, type SealedContent, type StoredMessage } from '../sealing.js';
import type { Store } from '../store.js';
import type { Connection } from './connection.js';

/** The parameters of insertKeyRotation, in column order. */
function params(r: KeyRotation): unknown[] {
  return Object.values(keyRotationParams(r));
}

export class Sealing implements Pick<Store, 'scanMessages' | 'sealingSample' | 'keyRotation' | 'beginKeyRotation' | 'saveKeyRotation'> {
  constructor(private readonly conn: Connection) {}

  async scanMessages(afterId: string | null, limit: number): Promise<StoredMessage[]> {
    this.conn.live();
    return (await this.conn.rows<MessageRow>('scanMessages', [afterId ?? '', limit])).map(toMessage);
  }

  async sealingSample(limit: number): Promise<{ keys: string[]; legacy: StoredMessage[] }> {
    this.conn.live();
    const keys = (await this.conn.rows<{ sealed: string }>('sealedEnds', [])).map((r) => r.sealed);
    const legacy = (await this.conn.rows<MessageRow>('legacySealed', [limit])).map(toMessage);
    return { keys: [...new Set(keys)], legacy };
  }

  async keyRotation(): Promise<KeyRotation | null> {
    this.conn.live();
    const [row] = await this.conn.rows<KeyRotationRow>('keyRotation', []);
    return row === undefined ? null : toKeyRotation(row);
  }

  async beginKeyRotation(r: Omit<KeyRotation, 'total'>, replacing: string | null): Promise<KeyRotation> {
    this.conn.live();
    try {
      return await this.conn.tx(async (c) => {
        if (replacing !== null) await this.conn.q('abandonKeyRotation', [replacing, r.startedAt, r.id], c);
        const [running] = await this.conn.rows<KeyRotationRow>('keyRotation', [], c);
        if (running?.state === 'running') throw runningError(running.id);
        const total = (await this.conn.rows<{ n: number }>('messageCount', [], c))[0]?.n ?? 0;
        const job: KeyRotation = { ...r, total };
        await this.conn.q('insertKeyRotation', params(job), c);
        return job;
      });
    } catch (e) {
      // Another process began one at the same moment: the index let only one in.
      if ((e as { code?: unknown }).code === '23505') throw runningError((await this.keyRotation())?.id ?? 'unknown');
      throw e;
    }
  }

  async saveKeyRotation(r: KeyRotation, owner: string, contents: SealedContent[]): Promise<boolean> {
    this.conn.live();
    return this.conn.tx(async (c) => {
      const update = [r.id, r.key, r.previous, r.state, r.owner, r.afterId, r.scanned, r.rewritten, r.skipped, r.updatedAt, r.finishedAt, r.error, owner];
      if ((await this.conn.q('updateKeyRotation', update, c)).rowCount !== 1) return false;
      if (contents.length > 0) {
        await this.conn.q(
          'rewriteMessages',
          [contents.map((x) => x.id), contents.map((x) => x.subject), contents.map((x) => x.body), contents.map((x) => JSON.stringify(x.metadata)), contents.map((x) => x.sealed)],
          c,
        );
      }
      return true;
    });
  }
}
