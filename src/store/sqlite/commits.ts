// The two group commits of the SQLite store, sends and acks, as functions of a connection. They
// run on the writer thread (writer.ts) when the store is a file, so that the hub's event loop goes
// on serving streams while a batch is written, or on the hub's own connection for `:memory:`.
// Inputs and outcomes are plain data: they cross threads by structured clone, errors included.
import type Database from 'better-sqlite3';
import type { Message } from '../../domain/message.js';
import { priorityRank } from '../../domain/message.js';
import { type ErrorCode, HubError } from '../../errors.js';
import type { AppendRequest } from '../store.js';
import { type MessageRow, messageParams } from '../rows.js';

/** An error as data: rebuilt as a HubError on the other side. */
export interface ErrorData {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> | undefined };
}

export type Outcome<T> = T | ErrorData;

/** A send as the SQLite store commits it: whether it is a fan-out message (migration 0009). */
export interface AppendItem extends AppendRequest {
  fanout: boolean;
}

export type AppendDone = { status: 'created'; seq: number } | { status: 'duplicate'; row: MessageRow; recipients: string[]; requestHash: string };

/**
 * One ack call: its ids, with what the caller already knows of them. A delivery leased in the
 * hub's memory is open and its row is known: `known` holds [seq, rank, delivered, attempts] for
 * the id at the same place, four numbers each (seq -1: not known, look it up; delivered NaN:
 * null). Numbers in one typed array cross to the writer thread as one copy, not one object per id.
 */
export interface AckRequest {
  agentId: string;
  at: number;
  strict: boolean;
  ids: string[];
  known: Float64Array;
}

/** `AckRequest.known` for `ids`, from what `knownOf` answers for each (null: not known). */
export function knownRows(ids: string[], knownOf: (id: string) => { seq: number; rank: number; deliveredAt: number | null; attempts: number } | undefined): Float64Array {
  // Once per id acknowledged: written in place, no array per id.
  const known = new Float64Array(ids.length * 4).fill(-1);
  for (let i = 0; i < ids.length; i++) {
    const e = knownOf(ids[i] as string);
    if (e === undefined) continue;
    known[i * 4] = e.seq;
    known[i * 4 + 1] = e.rank;
    known[i * 4 + 2] = e.deliveredAt ?? Number.NaN;
    known[i * 4 + 3] = e.attempts;
  }
  return known;
}

export interface AckDone {
  /** [message id, rank, seq] of each delivery this call acknowledged. */
  acked: [string, number, number][];
  already: string[];
}

export function isErrorData(o: unknown): o is ErrorData {
  return typeof o === 'object' && o !== null && 'error' in o;
}

export function toErrorData(e: HubError): ErrorData {
  return { error: { code: e.code, message: e.message, details: e.details } };
}

export function fromErrorData(o: ErrorData): HubError {
  return new HubError(o.error.code, o.error.message, o.error.details === undefined ? undefined : { details: o.error.details });
}

/**
 * A write transaction that need not survive a power loss (acks, hand-out bookkeeping): run without
 * fsync even when synchronous=FULL. The next durable commit fsyncs it along.
 */
export function relaxed<T>(db: Database.Database, full: boolean, fn: () => T): T {
  if (full) db.pragma('synchronous = NORMAL');
  try {
    return db.transaction(fn).immediate();
  } finally {
    if (full) db.pragma('synchronous = FULL');
  }
}

/** Adds up to `limit` messages not yet in the search index to it; returns how many. */
export function indexSearch(db: Database.Database, stmt: (name: string) => Database.Statement, full: boolean, limit: number): number {
  return relaxed(db, full, () => {
    const n = stmt('indexPending').run({ limit }).changes;
    if (n > 0) stmt('markIndexed').run();
    return n;
  });
}

/** Deliveries that expired (rows as `expireOne` and `sweepExpired` return them) go to their agents' totals. */
export function addExpired(stmt: (name: string) => Database.Statement, rows: { recipient: string; attempts: number }[]): number {
  const by = new Map<string, [number, number]>();
  for (const r of rows) {
    const t = by.get(r.recipient) ?? [0, 0];
    t[0] += 1;
    t[1] += Math.max(r.attempts - 1, 0);
    by.set(r.recipient, t);
  }
  for (const [agent, [n, redelivered]] of by) stmt('addTotals').run(agent, 0, n, redelivered);
  return rows.length;
}

type Outcomes<O> = (O | Error)[] | Promise<(O | Error)[]>;

/** A group commit's commit step that tells `onCommit` what it committed, how many items, how long (metrics). */
export function timed<I, O>(kind: 'send' | 'ack', onCommit: ((kind: 'send' | 'ack', size: number, seconds: number) => void) | undefined, fn: (items: I[]) => Outcomes<O>) {
  return (items: I[]): Outcomes<O> => {
    const t0 = performance.now();
    const report = (): void => onCommit?.(kind, items.length, (performance.now() - t0) / 1000);
    const out = fn(items);
    if (out instanceof Promise) return out.finally(report);
    report();
    return out;
  };
}

export class Commits {
  constructor(
    private readonly db: Database.Database,
    private readonly stmt: (name: string) => Database.Statement,
    private readonly full: boolean,
  ) {}

  /** One group commit of sends: every item of the batch in one IMMEDIATE transaction, fsynced. */
  appends(items: AppendItem[]): Outcome<AppendDone>[] {
    const findIdem = this.stmt('findIdempotent');
    const insertMessage = this.stmt('insertMessage');
    const insertDelivery = this.stmt('insertDelivery');
    const bySeq = this.stmt('getMessageBySeq');
    const recipientsOf = this.stmt('recipientsOf');
    const insertChannel = this.stmt('insertMessageChannel');
    const queueForTargets = this.stmt('queueForTargets');
    return this.db
      .transaction(() => {
        // Delivery targets (targets.ts): looked for once a batch, so a hub without any pays one read.
        const targets = (this.stmt('anyTarget').get() as { n: number }).n === 1;
        return items.map((req): Outcome<AppendDone> => {
          const m: Message = req.message;
          if (m.idempotencyKey !== null) {
            const prior = findIdem.get(m.sender, m.idempotencyKey) as { seq: number; request_hash: string } | undefined;
            if (prior !== undefined) {
              const row = bySeq.get(prior.seq) as MessageRow;
              const recipients = (recipientsOf.all(row.id) as { recipient: string }[]).map((r) => r.recipient);
              return { status: 'duplicate', row, recipients, requestHash: prior.request_hash };
            }
          }
          const fanout = req.fanout ? 1 : 0;
          const seq = Number(insertMessage.run({ ...messageParams(m, req.requestHash), fanout }).lastInsertRowid);
          const rank = priorityRank(m.priority);
          for (const r of req.recipients) insertDelivery.run(r, seq, rank, fanout);
          for (const c of req.channels ?? []) insertChannel.run(c, seq);
          if (targets) {
            queueForTargets.run({
              seq,
              now: m.createdAt,
              recipients: JSON.stringify(req.recipients),
              priority: rank,
              type: m.type,
              sender: m.sender,
              channels: JSON.stringify(req.channels ?? []),
            });
          }
          return { status: 'created', seq };
        });
      })
      .immediate();
  }

  /**
   * One group commit of acks: each item all or nothing, all items in one transaction; what each
   * item acknowledged is added to its agent's totals there too (delivery_totals). Committed
   * without fsync even under synchronous=FULL: in WAL mode the commit survives a crash of the
   * process; a power loss may lose the last acks, and those deliveries then come again, which
   * at-least-once allows. (Sends, which must never be lost, keep the fsync.)
   */
  acks(items: AckRequest[]): Outcome<AckDone>[] {
    return relaxed(this.db, this.full, () => items.map((it) => this.ack(it)));
  }

  /** One ack call, all or nothing: every id is checked before any is marked. */
  private ack(it: AckRequest): Outcome<AckDone> {
    const { ids, known, agentId, at } = it;
    // Ids not leased here are looked up: seq, rank, state (acknowledged already?) and attempts.
    const looked = new Map<number, { seq: number; rank: number; state: string; attempts: number }>();
    for (let i = 0; i < ids.length; i++) {
      if ((known[i * 4] as number) >= 0) continue;
      const id = ids[i] as string;
      const row = this.stmt('ackTarget').get({ recipient: agentId, id }) as { seq: number; state: string; rank: number; attempts: number } | undefined;
      if (row === undefined) return toErrorData(new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } }));
      looked.set(i, row);
    }
    if (it.strict) {
      const acked = [...looked].filter(([, r]) => r.state === 'acked').map(([i]) => ids[i] as string);
      if (acked.length > 0) return toErrorData(new HubError('already_acked', `already acknowledged: ${acked.join(', ')}`, { details: { messages: acked } }));
    }
    const mark = this.stmt('markAcked');
    const done: AckDone = { acked: [], already: [] };
    let redelivered = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const row = looked.get(i);
      const seq = row?.seq ?? (known[i * 4] as number);
      const rank = row?.rank ?? (known[i * 4 + 1] as number);
      const delivered = row === undefined ? (known[i * 4 + 2] as number) : Number.NaN;
      // A lease here counts the row's attempts and its own: never fewer than the row's.
      const attempts = row === undefined ? (known[i * 4 + 3] as number) : 0;
      if (mark.run(at, Number.isNaN(delivered) ? null : delivered, at, attempts, seq, agentId).changes > 0) {
        done.acked.push([id, rank, seq]);
        redelivered += Math.max((row?.attempts ?? attempts) - 1, 0);
      } else if (!done.already.includes(id) && !done.acked.some(([a]) => a === id)) done.already.push(id);
    }
    if (done.acked.length > 0) this.stmt('addTotals').run(agentId, done.acked.length, 0, redelivered);
    return done;
  }
}
