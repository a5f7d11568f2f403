// The queue counters of the PostgreSQL store: changed in the transaction that changes the
// deliveries (QueueCounts gathers one transaction's changes), folded by the sweeper when their rows
// have grown (leases.ts), and read, with the in-flight and delayed counts, as queue stats.
import type { QueueStat, Store } from '../store.js';
import type { Connection } from './connection.js';

/** Counter rows past which the sweeper folds them into one per agent. */
export const COMPACT_AT = 1000;

type Counted = 'open' | 'acked' | 'expired' | 'dead' | 'redeliveries';

/** Changes to the queue counters made in one transaction, per agent, as addQueueCounts takes them. */
export class QueueCounts {
  private readonly by = new Map<string, Record<Counted, number>>();

  add(agent: string, d: Partial<Record<Counted, number>>): void {
    if (Object.values(d).every((v) => v === 0)) return;
    let c = this.by.get(agent);
    if (c === undefined) this.by.set(agent, (c = { open: 0, acked: 0, expired: 0, dead: 0, redeliveries: 0 }));
    for (const [k, v] of Object.entries(d) as [Counted, number][]) c[k] += v;
  }

  get empty(): boolean {
    return this.by.size === 0;
  }

  params(): unknown[] {
    const rows = [...this.by];
    return [rows.map((r) => r[0]), ...(['open', 'acked', 'expired', 'dead', 'redeliveries'] as const).map((k) => rows.map((r) => r[1][k]))];
  }
}

export class QueueStats implements Pick<Store, 'queueStats'> {
  constructor(private readonly conn: Connection) {}

  async queueStats(now: number): Promise<QueueStat[]> {
    this.conn.live();
    const rows = await this.conn.rows<{
      agent: string;
      depth: number;
      in_flight: number;
      delayed: number;
      redeliveries: number;
      dead: number;
      acked: number;
      expired: number;
    }>('queueStats', [now]);
    return rows.map((r) => ({
      agent: r.agent,
      depth: r.depth,
      inFlight: r.in_flight,
      delayed: r.delayed,
      redeliveries: r.redeliveries,
      dead: r.dead,
      acked: r.acked,
      expired: r.expired,
    }));
  }
}
