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

  /**
   * Every request of one dispatch in one transaction of a constant number of statements: the
   * leasable rows of all agents at once (an agent asked for by several consumers is read once, for
   * their limits added up, and its rows shared out in request order), then one update each for
   * the expired, the dead and the leased, whatever the number of agents.
   */
  async lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    this.conn.live();
    const until = o.now + o.visibilityMs;
    const out = new Map<string, LeasedItem[]>(reqs.map((r) => [r.owner, []]));
    const wanted = new Map<string, number>();
    for (const r of reqs) if (r.limit > 0) wanted.set(r.agentId, (wanted.get(r.agentId) ?? 0) + r.limit);
    if (wanted.size === 0) return out;
    return this.conn.tx(async (c) => {
      // Skipped rows (dead, expired) do not count against the limit: read a little more.
      const agents = [...wanted.keys()];
      const rows = await this.conn.rows<InboxRow>('leasable', [agents, agents.map((a) => (wanted.get(a) ?? 0) + 16), o.now], c);
      const byAgent = new Map<string, InboxRow[]>();
      for (const row of rows) {
        const list = byAgent.get(row.d_recipient);
        if (list === undefined) byAgent.set(row.d_recipient, [row]);
        else list.push(row);
      }
      const counts = new QueueCounts();
      const closed = { expired: [[], []] as [string[], number[]], dead: [[], []] as [string[], number[]] };
      const usable = new Map<string, InboxRow[]>();
      for (const [agent, list] of byAgent) {
        const keep: InboxRow[] = [];
        const limit = wanted.get(agent) ?? 0;
        let expired = 0;
        let dead = 0;
        for (const row of list) {
          if (keep.length >= limit) break;
          const into = row.expires_at !== null && row.expires_at <= o.now ? closed.expired : row.d_attempts >= o.maxAttempts ? closed.dead : null;
          if (into === null) keep.push(row);
          else {
            into[0].push(agent);
            into[1].push(row.seq);
            if (into === closed.expired) expired += 1;
            else dead += 1;
          }
        }
        usable.set(agent, keep);
        counts.add(agent, { open: -(expired + dead), expired, dead, redeliveries: keep.filter((row) => row.d_attempts >= 1).length });
      }
      if (closed.expired[0].length > 0) await this.conn.q('expireMany', closed.expired, c);
      if (closed.dead[0].length > 0) await this.conn.q('deadMany', [...closed.dead, o.now], c);
      // Shared out in request order; hand-out numbers follow the order each consumer receives them in.
      const given: { owner: string; row: InboxRow }[] = [];
      for (const r of reqs) {
        const rest = usable.get(r.agentId) ?? [];
        for (const row of rest.splice(0, Math.max(0, r.limit))) given.push({ owner: r.owner, row });
      }
      if (given.length > 0) {
        const handouts = (await this.conn.rows<{ n: number }>('nextHandouts', [given.length], c)).map((h) => h.n).sort((a, b) => a - b);
        await this.conn.q('leaseMany', [given.map((g) => g.row.d_recipient), given.map((g) => g.row.seq), handouts, given.map((g) => g.owner), until, o.now], c);
        given.forEach(({ owner, row }, i) => {
          out.get(owner)?.push(
            toLeasedItem({
              ...row,
              d_attempts: row.d_attempts + 1,
              d_handout: handouts[i] ?? null,
              d_lease_until: until,
              d_state: row.d_state === 'pending' ? 'delivered' : row.d_state,
              d_delivered_at: row.d_delivered_at ?? o.now,
            }),
          );
        });
      }
      if (!counts.empty) await this.conn.q('addQueueCounts', counts.params(), c);
      return out;
    }, true);
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
