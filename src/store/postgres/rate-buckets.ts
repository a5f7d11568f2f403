// Shared rate limits: one token bucket per key in the database, taken from by every hub process
// (security/shared-rate-limit.ts takes tokens in chunks).
import type { Store } from '../store.js';
import type { Connection } from './connection.js';

export class RateBuckets implements Pick<Store, 'takeTokens'> {
  constructor(private readonly conn: Connection) {}

  async takeTokens(key: string, rate: number, burst: number, want: number, now: number): Promise<{ granted: number; remaining: number }> {
    this.conn.live();
    const [row] = await this.conn.rows<{ granted: number; remaining: number }>('takeTokens', [key, rate, burst, want, now]);
    return { granted: row?.granted ?? 0, remaining: row?.remaining ?? 0 };
  }
}
