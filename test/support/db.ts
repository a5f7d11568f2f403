// Reads a hub's SQLite file directly (read-only), to prove what is and is not stored.
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type Counts = Record<'agents' | 'tokens' | 'messages' | 'deliveries' | 'acked' | 'read', number>;

export function tableCounts(dataDir: string): Counts {
  const db = new Database(join(dataDir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    return {
      agents: n('SELECT count(*) n FROM agents WHERE removed_at IS NULL'),
      tokens: n('SELECT count(*) n FROM tokens WHERE revoked_at IS NULL'),
      messages: n('SELECT count(*) n FROM messages'),
      deliveries: n('SELECT count(*) n FROM deliveries'),
      acked: n("SELECT count(*) n FROM deliveries WHERE state = 'acked'"),
      read: n("SELECT count(*) n FROM deliveries WHERE state = 'read'"),
    };
  } finally {
    db.close();
  }
}
