// Reads a hub's store directly (read-only), to prove what is and is not stored.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storeRows, type TestStore } from './store.js';

export type Counts = Record<'agents' | 'tokens' | 'messages' | 'deliveries' | 'acked' | 'read', number>;

/** Every count in one statement that SQLite and PostgreSQL both understand. */
const COUNTS_SQL = `SELECT
  (SELECT count(*) FROM agents WHERE removed_at IS NULL) AS agents,
  (SELECT count(*) FROM tokens WHERE revoked_at IS NULL) AS tokens,
  (SELECT count(*) FROM messages) AS messages,
  (SELECT count(*) FROM deliveries) AS deliveries,
  (SELECT count(*) FROM deliveries WHERE state = 'acked') AS acked,
  (SELECT count(*) FROM deliveries WHERE state = 'read') AS read`;

/** The counts of an embedded hub's SQLite file. */
export function tableCounts(dataDir: string): Counts {
  const db = new Database(join(dataDir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(COUNTS_SQL).get() as Counts;
  } finally {
    db.close();
  }
}

/** The counts of a test's store, SQLite or PostgreSQL. */
export async function storeCounts(s: TestStore): Promise<Counts> {
  const [row] = await storeRows<Counts>(s, COUNTS_SQL);
  if (row === undefined) throw new Error('no counts');
  return row;
}
