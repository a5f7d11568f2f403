// Per agent, the lowest seqs at which it may still have an open delivery, two per priority rank
// (migration 0009). Inbox walks, hand-out pages and queue stats start there rather than at the
// agent's first delivery ever. Kept in memory; saved at each sweep and at close.
import type { Connection } from './connection.js';
import { RANKS } from './lease-book.js';

export class Floors {
  /** Per agent, two per priority rank (indexed, fan-out): below them all is closed (`of`). */
  private readonly byAgent = new Map<string, number[]>();
  /** Agents whose floors rose since they were last saved. */
  private readonly moved = new Set<string>();

  constructor(private readonly conn: Connection) {
    for (const r of conn.stmt('loadFloors').all() as { recipient: string; slot: number; seq: number }[]) this.slots(r.recipient)[r.slot] = r.seq;
  }

  /**
   * The lowest seqs at which the agent may have an open delivery of this priority, among its rows
   * in the inbox index and among fan-out messages (migration 0009): every row below is closed
   * (acked, expired, dead). Walking an inbox starts there rather than at the agent's first delivery
   * ever, so it does not step through all the acked history each time; with two floors, an old
   * open delivery of one kind does not hold back the walk of the other. Rows close for good, but
   * for a dead letter retried (retryDead lowers the floors), and new rows come after every seq
   * already applied, so a floor only moves up; it does so at each use, over the rows that closed
   * since.
   */
  of(agentId: string, rank: number): [indexed: number, fanout: number] {
    const floors = this.slots(agentId);
    // An agent whose open deliveries of this rank are all in memory: no need to read the table.
    const known = this.conn.queues.get(agentId)?.lowest(rank, this.conn.appliedSeq + 1);
    const raise = (i: number, query: string): number => {
      const from = floors[i] as number;
      const lowest = known?.[i % 2] ?? (this.conn.stmt(query).get({ recipient: agentId, rank, floor: from }) as { seq: number } | undefined)?.seq;
      const to = Math.max(from, Math.min(lowest ?? Infinity, this.conn.appliedSeq + 1));
      if (to !== from) this.moved.add(agentId);
      return (floors[i] = to);
    };
    return [raise(2 * rank, 'firstOpenIndexed'), raise(2 * rank + 1, 'firstOpenFanout')];
  }

  /** The agent's floors, two per rank (`of`); 0, nothing known yet, for an agent not seen. */
  private slots(agentId: string): number[] {
    let floors = this.byAgent.get(agentId);
    if (floors === undefined) this.byAgent.set(agentId, (floors = new Array<number>(2 * RANKS).fill(0)));
    return floors;
  }

  /** Every floor of the agent at `seq` (a new agent: nothing below it can be addressed to it). */
  startAt(agentId: string, seq: number): void {
    this.slots(agentId).fill(seq);
    this.moved.add(agentId);
  }

  /**
   * Floors that moved are saved now and then (at each sweep, on the writer thread, and at close):
   * migration 0009. Returns the rows to save, [agent, slot, seq] each, and forgets that they moved:
   * a save that fails loses nothing but a shortcut (the next walk reads further).
   */
  unsaved(): [string, number, number][] {
    const rows: [string, number, number][] = [];
    for (const agentId of this.moved) (this.byAgent.get(agentId) ?? []).forEach((seq, slot) => rows.push([agentId, slot, seq]));
    this.moved.clear();
    return rows;
  }

  /** Saves the floors that moved, on this connection (close). */
  save(): void {
    const save = this.conn.stmt('saveFloor');
    for (const row of this.unsaved()) save.run(...row);
  }

  /** A closed delivery is open again (a dead letter retried): the floors go back to it. */
  lower(agentId: string, rank: number, seq: number): void {
    const floors = this.byAgent.get(agentId);
    if (floors === undefined) return;
    for (const i of [2 * rank, 2 * rank + 1]) if ((floors[i] as number) > seq) floors[i] = seq;
  }
}
