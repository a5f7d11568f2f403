// Leases of the PostgreSQL store: hand-outs taken with FOR UPDATE SKIP LOCKED and numbered by a
// sequence, so that consumers in different processes never get the same delivery; adoption by a
// resumed stream, nacks, and the sweep of expired messages and exhausted leases.
import { OPEN_STATES } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { type InboxRow, toLeasedItem } from '../rows.js';
import type { LeasedItem, LeaseOptions, LeaseRequest, Store } from '../store.js';
import type { Connection } from './connection.js';
import { notInInbox } from './inbox.js';
import { COMPACT_AT, QueueCounts } from './queue-stats.js';

/** Expiry sweeps look this far behind the mark, for sends that committed after a sweep began. */
const EXPIRY_SLACK_MS = 60_000;
/** Exhausted leases dead-lettered per statement, and statements per sweep. */
const SWEEP_BATCH = 1000;
const SWEEP_BATCHES = 20;

export class Leases implements Pick<Store, 'lease' | 'adoptLeases' | 'nack' | 'releaseAllLeases' | 'sweep' | 'nextWake'> {
  constructor(private readonly conn: Connection) {}

  async lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    this.conn.live();
    const until = o.now + o.visibilityMs;
    return this.conn.tx(async (c) => {
      const out = new Map<string, LeasedItem[]>();
      const counts = new QueueCounts();
      for (const r of reqs) {
        const got: InboxRow[] = [];
        out.set(r.owner, []);
        if (r.limit <= 0) continue;
        // Skipped rows (dead, expired) do not count against the limit: read a little more.
        const rows = await this.conn.rows<InboxRow>('leasable', [r.agentId, o.now, r.limit + 16], c);
        const expired: number[] = [];
        const dead: number[] = [];
        for (const row of rows) {
          if (got.length >= r.limit) break;
          if (row.expires_at !== null && row.expires_at <= o.now) expired.push(row.seq);
          else if (row.d_attempts >= o.maxAttempts) dead.push(row.seq);
          else got.push(row);
        }
        if (expired.length > 0) await this.conn.q('expireMany', [r.agentId, expired], c);
        if (dead.length > 0) await this.conn.q('deadMany', [r.agentId, dead, o.now], c);
        counts.add(r.agentId, { open: -(expired.length + dead.length), expired: expired.length, dead: dead.length, redeliveries: got.filter((row) => row.d_attempts >= 1).length });
        if (got.length === 0) continue;
        // Hand-out numbers follow the order the consumer receives the deliveries in.
        const handouts = (await this.conn.rows<{ n: number }>('nextHandouts', [got.length], c)).map((h) => h.n).sort((a, b) => a - b);
        await this.conn.q('leaseMany', [r.agentId, got.map((row) => row.seq), handouts, until, r.owner, o.now], c);
        out.set(
          r.owner,
          got.map((row, i) => {
            const pending = row.d_state === 'pending';
            return toLeasedItem({
              ...row,
              d_attempts: row.d_attempts + 1,
              d_handout: handouts[i] ?? null,
              d_lease_until: until,
              d_state: pending ? 'delivered' : row.d_state,
              d_delivered_at: row.d_delivered_at ?? o.now,
            });
          }),
        );
      }
      if (!counts.empty) await this.conn.q('addQueueCounts', counts.params(), c);
      return out;
    });
  }

  async adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]> {
    this.conn.live();
    return (await this.conn.rows<InboxRow>('adoptLeases', [agentId, owner, now, afterHandout])).map(toLeasedItem);
  }

  async nack(agentId: string, messageIds: string[], visibleAt: number, _now: number): Promise<string[]> {
    this.conn.live();
    return this.conn.tx(async (c) => {
      const unique = [...new Set(messageIds)];
      const found = await this.conn.rows<{ id: string; seq: number; state: string }>('lockDeliveries', [unique.map(() => agentId), unique], c);
      const byId = new Map(found.map((r) => [r.id, r]));
      const missing = unique.find((id) => !byId.has(id));
      if (missing !== undefined) throw notInInbox(agentId, missing);
      const closed = found.filter((r) => !(OPEN_STATES as readonly string[]).includes(r.state));
      if (closed.length > 0) {
        throw new HubError('delivery_closed', `cannot nack ${closed.map((r) => `${r.id} (${r.state})`).join(', ')}: only open deliveries can be returned`);
      }
      await this.conn.q('nackMany', [agentId, found.map((r) => r.seq), visibleAt], c);
      return messageIds;
    });
  }

  async releaseAllLeases(): Promise<number> {
    this.conn.live();
    return (await this.conn.q('releaseAll', [])).rowCount ?? 0;
  }

  /**
   * By index, in batches: deliveries of messages that expired since the last sweep (from the
   * expiry mark, less a minute for sends committed late), then leases that ended. Counters fold
   * into one row per agent when they have grown.
   */
  async sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }> {
    this.conn.live();
    const mark = (await this.conn.rows<{ at: number }>('expiryMark', []))[0]?.at ?? 0;
    const [swept] = await this.conn.rows<{ n: number }>('sweepExpired', [now, Math.max(0, mark - EXPIRY_SLACK_MS)]);
    await this.conn.q('setExpiryMark', [now]);
    let dead = 0;
    for (let i = 0; i < SWEEP_BATCHES; i++) {
      const n = (await this.conn.rows<{ dead: number }>('sweepDead', [now, maxAttempts, SWEEP_BATCH]))[0]?.dead ?? 0;
      dead += n;
      if (n < SWEEP_BATCH) break;
    }
    const [rows] = await this.conn.rows<{ n: number }>('queueCountRows', []);
    if ((rows?.n ?? 0) > COMPACT_AT) await this.conn.q('compactQueueCounts', []);
    return { expired: swept?.n ?? 0, dead };
  }

  async nextWake(agentId: string, now: number): Promise<number | null> {
    this.conn.live();
    const [row] = await this.conn.rows<{ t: number | null }>('nextWake', [agentId, now]);
    return row?.t ?? null;
  }
}
