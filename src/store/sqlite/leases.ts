// Leases of the SQLite store: at-least-once hand-outs to consumers, nacks, the sweep and wake-ups.
// Leases live in memory (lease-book.ts): a hand-out writes nothing unless a delivery turns out
// expired or exhausted, or an ended lease's attempts must be stored.
import { OPEN_STATES } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import type { InboxRow } from '../rows.js';
import type { LeasedItem, LeaseOptions, LeaseRequest, Store } from '../store.js';
import { addExpired } from './commits.js';
import type { Connection } from './connection.js';
import type { Floors } from './floors.js';
import { AgentQueue, type Entry, type OpenState, RANKS } from './lease-book.js';
import type { RecentMessages } from './recent-messages.js';
import type { WriteContext } from './writes.js';

/** Open deliveries read into an agent's hand-out queue at a time. */
export const PAGE = 256;
/** Ready deliveries an agent's queue may hold before it is cut back to a page (lease-book.ts `trim`). */
export const READY_MAX = 4 * PAGE;

/** A delivery just expired (queries.sql: expireOne, sweepExpired). */
type ExpiredRow = { recipient: string; attempts: number };

/** A page row of an agent's open deliveries (queries.sql: openPage). */
interface OpenRow {
  seq: number;
  rank: number;
  fanout: number;
  state: OpenState;
  delivered_at: number | null;
  read_at: number | null;
  attempts: number;
  visible_at: number | null;
  id: string;
  expires_at: number | null;
}

/** A pending delivery as a hand-out queue holds it. */
export function newEntry(seq: number, rank: number, fanout: boolean, messageId: string, expiresAt: number | null): Entry {
  return { seq, rank, fanout, messageId, expiresAt, state: 'pending', deliveredAt: null, readAt: null, attempts: 0, storedAttempts: 0, visibleAt: null, until: 0, owner: '', handout: 0 };
}

export class Leases implements Pick<Store, 'lease' | 'adoptLeases' | 'nack' | 'releaseAllLeases' | 'sweep' | 'nextWake'> {
  private readonly queues: Map<string, AgentQueue>;
  /** The last hand-out number given (LeasedItem.handout). */
  private handout: number;

  constructor(
    private readonly conn: Connection,
    private readonly floors: Floors,
    private readonly recent: RecentMessages,
  ) {
    this.queues = conn.queues;
    this.handout = (conn.stmt('maxHandout').get() as { n: number }).n;
  }

  /** The agent's hand-out queue, created on first use. */
  private queueOf(agentId: string): AgentQueue {
    let q = this.queues.get(agentId);
    if (q === undefined) this.queues.set(agentId, (q = new AgentQueue()));
    return q;
  }

  /** Reads the next page of the agent's open deliveries into memory; false when there were none. */
  private loadPage(agentId: string, q: AgentQueue): boolean {
    const b = q.bound;
    if (b === null) return false;
    const page = this.conn.stmt('openPage');
    const rows: OpenRow[] = [];
    // The rest of the bound's priority, then the lower ones, each from its floors.
    for (let rank = Math.min(b.rank, RANKS - 1); rank >= 0 && rows.length < PAGE; rank--) {
      const after = rank === b.rank ? b.seq : 0;
      const [indexed, fanout] = this.floors.of(agentId, rank);
      rows.push(
        ...(page.all({ recipient: agentId, rank, after_indexed: Math.max(after, indexed - 1), after_fanout: Math.max(after, fanout - 1), max: this.conn.appliedSeq, limit: PAGE - rows.length }) as OpenRow[]),
      );
    }
    for (const r of rows) {
      const e = newEntry(r.seq, r.rank, r.fanout === 1, r.id, r.expires_at);
      e.state = r.state;
      e.deliveredAt = r.delivered_at;
      e.readAt = r.read_at;
      e.attempts = e.storedAttempts = r.attempts;
      e.visibleAt = r.visible_at;
      q.insert(e);
    }
    const last = rows[rows.length - 1];
    q.bound = rows.length < PAGE || last === undefined ? null : { rank: last.rank, seq: last.seq };
    return rows.length > 0;
  }

  private leasedItem(agentId: string, e: Entry): LeasedItem {
    return {
      message: this.recent.bySeq(e.seq),
      delivery: { messageId: e.messageId, recipient: agentId, state: e.state, deliveredAt: e.deliveredAt, readAt: e.readAt, ackedAt: null },
      handout: e.handout,
      attempt: e.attempts,
      leaseUntil: e.until,
    };
  }

  async lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    this.conn.live();
    const until = o.now + o.visibilityMs;
    const out = new Map<string, LeasedItem[]>();
    /** Row writes this hand-out needs (rare): run together once the hand-out is decided. */
    const writes: (() => void)[] = [];
    const touched = new Set<string>();
    try {
      for (const r of reqs) {
        const got: LeasedItem[] = [];
        out.set(r.owner, got);
        if (r.limit <= 0) continue;
        const q = this.queueOf(r.agentId);
        touched.add(r.agentId);
        for (const e of q.returnEnded(o.now)) this.storeAttempts(r.agentId, e, writes);
        for (;;) {
          this.handOut(r, q, o, until, got, writes);
          if (got.length >= r.limit || !this.loadPage(r.agentId, q)) break;
        }
      }
      if (writes.length > 0) this.conn.relaxed(() => writes.forEach((w) => w()));
    } catch (e) {
      // Memory and rows may disagree now: read the agents' queues afresh (a delivery handed out
      // twice is allowed; one forgotten is not).
      for (const id of touched) this.queues.delete(id);
      throw e;
    }
    return out;
  }

  /** Leases ready deliveries of `q` in inbox order until the request's limit. */
  private handOut(r: LeaseRequest, q: AgentQueue, o: LeaseOptions, until: number, got: LeasedItem[], writes: (() => void)[]): void {
    for (let rank = RANKS - 1; rank >= 0 && got.length < r.limit; rank--) {
      const list = q.ready[rank] as Entry[];
      let taken = 0;
      let kept: Entry[] | null = null; // entries left in place (delayed), once one is skipped
      let i = 0;
      for (; i < list.length && got.length < r.limit; i++) {
        const e = list[i] as Entry;
        if (e.visibleAt !== null && e.visibleAt > o.now) {
          (kept ??= []).push(e);
          continue;
        }
        taken += 1;
        if (e.expiresAt !== null && e.expiresAt <= o.now) {
          writes.push(() => addExpired((name) => this.conn.stmt(name), this.conn.stmt('expireOne').all({ recipient: r.agentId, seq: e.seq }) as ExpiredRow[]));
          continue;
        }
        if (e.attempts >= o.maxAttempts) {
          const reason = `not acknowledged after ${e.attempts} deliveries`;
          writes.push(() => this.conn.stmt('deadOne').run({ recipient: r.agentId, seq: e.seq, now: o.now, reason, attempts: e.attempts }));
          continue;
        }
        q.lease(e, until, r.owner, ++this.handout, o.now);
        got.push(this.leasedItem(r.agentId, e));
      }
      if (taken === 0) continue;
      if (kept === null) list.splice(0, i);
      else list.splice(0, i, ...kept);
    }
  }

  /** An ended lease's hand-outs go to the row, so that a restart still counts them. */
  private storeAttempts(agentId: string, e: Entry, writes: (() => void)[]): void {
    if (e.attempts === e.storedAttempts) return;
    const params = { recipient: agentId, seq: e.seq, attempts: e.attempts, delivered: e.deliveredAt };
    e.storedAttempts = e.attempts;
    writes.push(() => this.conn.stmt('recordHandOuts').run(params));
  }

  async adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]> {
    this.conn.live();
    const q = this.queues.get(agentId);
    if (q === undefined) return [];
    const mine = [...q.leases.values()].filter((e) => e.handout > afterHandout && e.until > now).sort((a, b) => a.handout - b.handout);
    for (const e of mine) e.owner = owner;
    return mine.map((e) => this.leasedItem(agentId, e));
  }

  async nack(agentId: string, messageIds: string[], visibleAt: number, _now: number): Promise<string[]> {
    this.conn.live();
    const q = this.queues.get(agentId);
    const rows = this.conn.relaxed(() => {
      const found: InboxRow[] = [];
      for (const id of messageIds) {
        const row = this.conn.stmt('inboxItem').get({ recipient: agentId, id }) as InboxRow | undefined;
        if (row === undefined) throw new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } });
        found.push(row);
      }
      const closed = found.filter((r) => !(OPEN_STATES as readonly string[]).includes(r.d_state));
      if (closed.length > 0) {
        throw new HubError('delivery_closed', `cannot nack ${closed.map((r) => `${r.id} (${r.d_state})`).join(', ')}: only open deliveries can be returned`);
      }
      const nackOne = this.conn.stmt('nackOne');
      for (const row of found) {
        const e = q?.find(row.id, row.priority, row.seq);
        nackOne.run({ recipient: agentId, seq: row.seq, visible_at: visibleAt, attempts: e?.attempts ?? 0 });
      }
      return found;
    });
    for (const row of rows) {
      const e = q?.find(row.id, row.priority, row.seq);
      if (q === undefined || e === undefined) continue;
      e.storedAttempts = e.attempts;
      e.visibleAt = visibleAt;
      if (q.leases.delete(row.id)) q.putBack(e);
    }
    return rows.map((r) => r.id);
  }

  async releaseAllLeases(): Promise<number> {
    this.conn.live();
    let n = 0;
    for (const q of this.queues.values()) n += q.leases.size;
    this.queues.clear();
    return n + this.conn.relaxed(() => this.conn.stmt('releaseAll').run().changes);
  }

  async sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }> {
    this.conn.live();
    const dead: [string, Entry][] = [];
    for (const [agentId, q] of this.queues) for (const e of q.leases.values()) if (e.until <= now && e.attempts >= maxAttempts && (e.expiresAt === null || e.expiresAt > now)) dead.push([agentId, e]);
    // Written on the writer thread (writes.ts), like the floors that moved since the last sweep.
    const counts = await this.conn.write('sweep', { dead: dead.map(([agentId, e]) => [agentId, e.seq, e.attempts]), now, maxAttempts, floors: this.floors.unsaved() });
    for (const [agentId, e] of dead) this.queues.get(agentId)?.leases.delete(e.messageId);
    for (const q of this.queues.values()) {
      for (const e of [...q.leases.values()]) if (e.expiresAt !== null && e.expiresAt <= now) q.leases.delete(e.messageId);
      for (let rank = 0; rank < RANKS; rank++) {
        const list = q.ready[rank] as Entry[];
        if (list.some((e) => e.expiresAt !== null && e.expiresAt <= now)) q.ready[rank] = list.filter((e) => e.expiresAt === null || e.expiresAt > now);
      }
    }
    return counts;
  }

  async nextWake(agentId: string, now: number): Promise<number | null> {
    this.conn.live();
    let next = (this.conn.stmt('nextWake').get({ recipient: agentId, now }) as { t: number | null }).t ?? Infinity;
    const q = this.queues.get(agentId);
    if (q !== undefined) {
      for (const e of q.leases.values()) if (e.until > now && e.until < next) next = e.until;
      for (const list of q.ready) for (const e of list) if (e.visibleAt !== null && e.visibleAt > now && e.visibleAt < next) next = e.visibleAt;
    }
    return next === Infinity ? null : next;
  }
}

/** Run by writes.ts on the writer thread: the sweep's writes, decided on the event loop (`sweep`). */
export function sweepRows(
  c: WriteContext,
  a: { dead: [agentId: string, seq: number, attempts: number][]; now: number; maxAttempts: number; floors: [string, number, number][] },
): { expired: number; dead: number } {
  const deadOne = c.stmt('deadOne');
  let n = 0;
  for (const [recipient, seq, attempts] of a.dead) n += deadOne.run({ recipient, seq, now: a.now, reason: `not acknowledged after ${attempts} deliveries`, attempts }).changes;
  const save = c.stmt('saveFloor');
  for (const row of a.floors) save.run(...row);
  return {
    expired: addExpired((name) => c.stmt(name), c.stmt('sweepExpired').all({ now: a.now }) as ExpiredRow[]),
    dead: n + c.stmt('sweepDead').run({ now: a.now, max: a.maxAttempts }).changes,
  };
}
