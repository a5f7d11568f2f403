// Per-agent queue statistics of the SQLite store (`swarm queue stats`, /metrics), read from the
// delivery totals, the dead-letter index and each agent's open deliveries above its floors, then
// corrected by the leases held in memory.
import type { QueueStat, Store } from '../store.js';
import type { Connection } from './connection.js';
import type { Floors } from './floors.js';
import { RANKS } from './lease-book.js';

export class QueueStats implements Pick<Store, 'queueStats'> {
  constructor(
    private readonly conn: Connection,
    private readonly floors: Floors,
  ) {}

  /**
   * Per agent with deliveries: closed ones from delivery_totals, dead letters from their index, and
   * open ones counted from the agent's floors, so that neither a scrape of /metrics nor `swarm
   * queue stats` reads the whole history (migration 0009).
   */
  async queueStats(now: number): Promise<QueueStat[]> {
    this.conn.live();
    const stats = new Map<string, QueueStat>();
    const statOf = (agent: string): QueueStat => {
      let s = stats.get(agent);
      if (s === undefined) stats.set(agent, (s = { agent, depth: 0, inFlight: 0, delayed: 0, redeliveries: 0, dead: 0, acked: 0, expired: 0 }));
      return s;
    };
    for (const r of this.conn.stmt('queueTotals').all() as { agent: string; acked: number; expired: number; redelivered: number }[]) {
      Object.assign(statOf(r.agent), { acked: r.acked, expired: r.expired, redeliveries: r.redelivered });
    }
    for (const r of this.conn.stmt('queueDead').all() as { agent: string; dead: number; redelivered: number }[]) {
      const s = statOf(r.agent);
      s.dead = r.dead;
      s.redeliveries += r.redelivered;
    }
    const open = this.conn.stmt('queueOpen');
    for (const { id } of this.conn.stmt('agentIds').all() as { id: string }[]) {
      for (let rank = 0; rank < RANKS; rank++) {
        const [indexed, fanout] = this.floors.of(id, rank);
        const r = open.get({ recipient: id, rank, floor_indexed: indexed, floor_fanout: fanout, now }) as { n: number; depth: number; in_flight: number; delayed: number; redelivered: number };
        if (r.n === 0) continue;
        const s = statOf(id);
        s.depth += r.depth;
        s.inFlight += r.in_flight;
        s.delayed += r.delayed;
        s.redeliveries += r.redelivered;
      }
    }
    const extra = (n: number): number => Math.max(n - 1, 0);
    for (const stat of stats.values()) {
      // The rows do not know the leases held here, nor the hand-outs not stored yet.
      for (const e of this.conn.queues.get(stat.agent)?.leases.values() ?? []) {
        if (e.until > now) {
          stat.depth -= 1;
          stat.inFlight += 1;
        }
        stat.redeliveries += extra(e.attempts) - extra(e.storedAttempts);
      }
    }
    return [...stats.values()].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  }
}
