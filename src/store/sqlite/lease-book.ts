// The embedded store's hand-out state, in memory. One process owns the SQLite file, so which
// deliveries are leased to which consumer need not be written at every hand-out: that row update
// was most of the hub's work per delivery (docs/benchmarks.md). A process that dies takes its
// leases with it, which is what `releaseAllLeases` did at every start anyway: whatever was not
// acknowledged is handed out again. The rows still get what must outlive the process: acks, nack
// delays, dead and expired states, and the attempt count whenever a lease ends unacknowledged.
//
// Per agent, `ready` holds the agent's open, unleased deliveries in inbox order (urgent first,
// then oldest), but only up to `bound`, the last key read from the table: beyond it they are read a
// page at a time. A new delivery joins `ready` only when its key falls inside what was read.

/** Delivery states in which a delivery can be handed out. */
export type OpenState = 'pending' | 'delivered' | 'read';

/** One open delivery of an agent, ready or leased. */
export interface Entry {
  seq: number;
  /** Priority rank: higher first. */
  rank: number;
  /** A fan-out message's (migration 0009): its row is found through the message, not the inbox index. */
  fanout: boolean;
  messageId: string;
  expiresAt: number | null;
  state: OpenState;
  deliveredAt: number | null;
  readAt: number | null;
  /** Hand-outs so far. */
  attempts: number;
  /** What the row's attempts column holds (it catches up when a lease ends). */
  storedAttempts: number;
  visibleAt: number | null;
  /** Lease end; 0 while not leased. */
  until: number;
  owner: string;
  handout: number;
}

export const RANKS = 4;

/** Key order: higher rank first, then lower seq. */
function before(aRank: number, aSeq: number, bRank: number, bSeq: number): boolean {
  return aRank > bRank || (aRank === bRank && aSeq < bSeq);
}

/** Index of the first entry of `list` (ascending seq) with seq >= `seq`. */
function lowerBound(list: Entry[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Entry).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class AgentQueue {
  /** Ready deliveries per rank, ascending seq. */
  readonly ready: Entry[][] = Array.from({ length: RANKS }, () => []);
  /** Leased deliveries by message id. */
  readonly leases = new Map<string, Entry>();
  /** The last key read from the table; null once everything open was read. */
  bound: { rank: number; seq: number } | null = { rank: RANKS, seq: 0 };
  /** No lease ends before this (a lower bound: leases may have ended by ack since). */
  minUntil = Infinity;

  /**
   * Where the agent's open deliveries of this rank begin, if all of them are in memory (the rank
   * was read to its end): the lowest seq among ready and leased ones, for the rows in the inbox
   * index and for fan-out ones; `none` where there is none. Undefined when the table may hold
   * more than memory does.
   */
  lowest(rank: number, none: number): [indexed: number, fanout: number] | undefined {
    const b = this.bound;
    if (b !== null && b.rank >= rank) return undefined;
    const low: [number, number] = [none, none];
    const see = (e: Entry): void => {
      const i = e.fanout ? 1 : 0;
      if (e.seq < low[i]) low[i] = e.seq;
    };
    for (const e of this.ready[rank] ?? []) {
      see(e);
      if (low[0] < none && low[1] < none) break; // ascending seq: the first of each kind is the lowest
    }
    for (const e of this.leases.values()) if (e.rank === rank) see(e);
    return low;
  }

  /** Whether a delivery with this key belongs in memory (inside what was read). */
  covers(rank: number, seq: number): boolean {
    const b = this.bound;
    return b === null || !before(b.rank, b.seq, rank, seq);
  }

  readyCount(): number {
    let n = 0;
    for (const list of this.ready) n += list.length;
    return n;
  }

  /** Adds a ready entry in key order. */
  insert(e: Entry): void {
    const list = this.ready[e.rank] as Entry[];
    const last = list[list.length - 1];
    if (last === undefined || last.seq < e.seq) list.push(e);
    else {
      const i = lowerBound(list, e.seq);
      if (list[i]?.seq !== e.seq) list.splice(i, 0, e);
    }
  }

  findReady(rank: number, seq: number): Entry | undefined {
    const list = this.ready[rank];
    if (list === undefined) return undefined;
    const e = list[lowerBound(list, seq)];
    return e?.seq === seq ? e : undefined;
  }

  removeReady(rank: number, seq: number): Entry | undefined {
    const list = this.ready[rank];
    if (list === undefined) return undefined;
    const i = lowerBound(list, seq);
    const e = list[i];
    if (e?.seq !== seq) return undefined;
    list.splice(i, 1);
    return e;
  }

  /** The open delivery of a message, leased or ready, if it is in memory. */
  find(messageId: string, rank: number, seq: number): Entry | undefined {
    return this.leases.get(messageId) ?? this.findReady(rank, seq);
  }

  /** Removes a delivery (acknowledged, expired, dead) wherever it is in memory. */
  forget(messageId: string, rank: number, seq: number): void {
    if (!this.leases.delete(messageId)) this.removeReady(rank, seq);
  }

  lease(e: Entry, until: number, owner: string, handout: number, now: number): void {
    e.attempts += 1;
    e.until = until;
    e.owner = owner;
    e.handout = handout;
    e.visibleAt = null;
    if (e.state === 'pending') e.state = 'delivered';
    e.deliveredAt ??= now;
    this.leases.set(e.messageId, e);
    if (until < this.minUntil) this.minUntil = until;
  }

  /**
   * Leases that ended by `now` go back to ready (or, past the bound, back to the table only: a
   * later page reads them); returns them all (their attempts need storing).
   */
  returnEnded(now: number): Entry[] {
    if (now < this.minUntil) return [];
    const back: Entry[] = [];
    let min = Infinity;
    for (const e of this.leases.values()) {
      if (e.until <= now) back.push(e);
      else if (e.until < min) min = e.until;
    }
    for (const e of back) {
      this.leases.delete(e.messageId);
      this.putBack(e);
    }
    this.minUntil = min;
    return back;
  }

  /** A lease ended (ran out, nacked): ready again if inside the bound; else the table has it. */
  putBack(e: Entry): void {
    this.unlease(e);
    if (this.covers(e.rank, e.seq)) this.insert(e);
  }

  /**
   * Keeps the first `keep` ready entries (and any before the last leased one) and moves the bound
   * back to the last of them: an agent that stops taking deliveries while sends keep arriving does
   * not grow memory. What is dropped is open in the table, and a later page reads it again; the
   * bound never moves before a leased delivery, which a page must not read again.
   */
  trim(keep: number): void {
    let floor: { rank: number; seq: number } | null = null; // the last leased key
    for (const e of this.leases.values()) if (floor === null || before(floor.rank, floor.seq, e.rank, e.seq)) floor = { rank: e.rank, seq: e.seq };
    let n = 0;
    let last: Entry | undefined;
    for (let rank = RANKS - 1; rank >= 0; rank--) {
      for (const e of this.ready[rank] as Entry[]) {
        if (n >= keep && (floor === null || before(floor.rank, floor.seq, e.rank, e.seq))) {
          // Cut here: `last` (or the last lease, whichever is later) is the new bound.
          let bound = last === undefined ? floor : { rank: last.rank, seq: last.seq };
          if (bound !== null && floor !== null && before(bound.rank, bound.seq, floor.rank, floor.seq)) bound = floor;
          this.bound = bound ?? { rank: RANKS, seq: 0 };
          for (const list of this.ready) {
            let i = list.length;
            while (i > 0 && !this.covers((list[i - 1] as Entry).rank, (list[i - 1] as Entry).seq)) i--;
            list.length = i;
          }
          return;
        }
        n += 1;
        last = e;
      }
    }
  }

  /** Ends a lease without putting the entry back (the caller decides). */
  unlease(e: Entry): void {
    e.until = 0;
    e.owner = '';
  }
}
