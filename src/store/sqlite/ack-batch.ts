// One group commit of acks as it crosses to the writer thread and back (commits.ts `acks`). A
// structured clone costs per object: with an object and a typed array per ack call going out, and a
// [id, rank, seq] array per acknowledged id coming back, the crossing cost ~1.7 µs per id (a commit
// of 100 calls of 10 ids), as much as the row update. So the batch is a few arrays for all its
// calls, ids go only where the writer must look them up, and the answer is one status byte per id.
import type { AckResult } from '../store.js';
import type { ErrorData } from './commits.js';

/** What the hub knows of a delivery it leased: its row, without a lookup by message id. */
export interface KnownDelivery {
  seq: number;
  rank: number;
  deliveredAt: number | null;
  attempts: number;
}

/** One ack call waiting for the acks' group commit. */
export interface AckItem {
  agentId: string;
  messageIds: string[];
  at: number;
  strict: boolean;
}

export interface AckBatch {
  /** Per call: its agent, time, strict flag (1) and how many ids it has; its ids follow the previous call's. */
  agents: string[];
  at: Float64Array;
  strict: Uint8Array;
  counts: Uint32Array;
  /**
   * Per id, in call order, four numbers: [seq, rank, delivered, attempts] of a delivery leased here
   * (delivered NaN: null), or seq -1: not known, the writer looks it up by id.
   */
  known: Float64Array;
  /** The ids not known, by their place among the batch's ids: the only ids sent. */
  unknown: [place: number, id: string][];
}

/** Per id: acknowledged by this commit, acknowledged before, or its call failed (nothing of it written). */
export const ACKED = 1;
export const ALREADY = 0;
export const FAILED = -1;

export interface AckBatchDone {
  /** Per id, in the batch's order: ACKED, ALREADY or FAILED. */
  status: Int8Array;
  /** [rank, seq] per id, for ids the writer looked up and acknowledged (null: none looked up). */
  found: Float64Array | null;
  /** Per call: null, or why it failed. */
  errors: (ErrorData | null)[];
}

/** The batch of these calls, with `knownOf` answering for the deliveries leased here. */
export function ackBatch(items: AckItem[], knownOf: (agentId: string, id: string) => KnownDelivery | undefined): AckBatch {
  let total = 0;
  for (const it of items) total += it.messageIds.length;
  const b: AckBatch = {
    agents: items.map((it) => it.agentId),
    at: new Float64Array(items.length),
    strict: new Uint8Array(items.length),
    counts: new Uint32Array(items.length),
    known: new Float64Array(total * 4).fill(-1),
    unknown: [],
  };
  let place = 0;
  items.forEach((it, c) => {
    b.at[c] = it.at;
    b.strict[c] = it.strict ? 1 : 0;
    b.counts[c] = it.messageIds.length;
    // Once per id acknowledged: written in place, no object per id.
    for (const id of it.messageIds) {
      const e = knownOf(it.agentId, id);
      if (e === undefined) b.unknown.push([place, id]);
      else {
        b.known[place * 4] = e.seq;
        b.known[place * 4 + 1] = e.rank;
        b.known[place * 4 + 2] = e.deliveredAt ?? Number.NaN;
        b.known[place * 4 + 3] = e.attempts;
      }
      place += 1;
    }
  });
  return b;
}

/**
 * Each call's result (or error), read from the writer's answer; `forget` is told of every
 * delivery acknowledged, with its rank and seq, to take it out of the hand-out queues.
 */
export function ackResults(items: AckItem[], b: AckBatch, done: AckBatchDone, forget: (agentId: string, id: string, rank: number, seq: number) => void): (AckResult | ErrorData)[] {
  let place = 0;
  return items.map((it, c): AckResult | ErrorData => {
    const first = place;
    place += it.messageIds.length;
    const err = done.errors[c];
    if (err !== null && err !== undefined) return err;
    const acked: string[] = [];
    const already: string[] = [];
    for (let i = first; i < place; i++) {
      const id = it.messageIds[i - first] as string;
      if (done.status[i] === ACKED) {
        acked.push(id);
        const k = (b.known[i * 4] as number) >= 0;
        forget(it.agentId, id, k ? (b.known[i * 4 + 1] as number) : (done.found?.[i * 2] as number), k ? (b.known[i * 4] as number) : (done.found?.[i * 2 + 1] as number));
      } else if (!already.includes(id) && !acked.includes(id)) already.push(id); // an id given twice is acknowledged once
    }
    return { acked, already };
  });
}
