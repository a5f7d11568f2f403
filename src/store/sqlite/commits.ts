// The two group commits of the SQLite store, sends and acks, as functions of a connection. They
// run on the writer thread (writer.ts) when the store is a file, so that the hub's event loop goes
// on serving streams while a batch is written, or on the hub's own connection for `:memory:`.
// Inputs and outcomes are plain data: they cross threads by structured clone, errors included.
import type Database from 'better-sqlite3';
import type { Message } from '../../domain/message.js';
import { priorityRank } from '../../domain/message.js';
import { type ErrorCode, HubError } from '../../errors.js';
import type { AppendRequest } from '../store.js';
import { ACKED, ALREADY, type AckBatch, type AckBatchDone, FAILED } from './ack-batch.js';
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
   * One group commit of acks (ack-batch.ts): each call all or nothing, all calls in one
   * transaction; what each call acknowledged is added to its agent's totals there too
   * (delivery_totals). Committed without fsync even under synchronous=FULL: in WAL mode the commit
   * survives a crash of the process; a power loss may lose the last acks, and those deliveries then
   * come again, which at-least-once allows. (Sends, which must never be lost, keep the fsync.)
   */
  acks(batches: AckBatch[]): AckBatchDone[] {
    return relaxed(this.db, this.full, () =>
      batches.map((b) => {
        const done: AckBatchDone = { status: new Int8Array(b.known.length / 4).fill(FAILED), found: null, errors: [] };
        const unknown = new Map(b.unknown);
        let first = 0;
        for (let c = 0; c < b.agents.length; c++) {
          const n = b.counts[c] as number;
          done.errors.push(this.ack(b, c, first, first + n, unknown, done));
          first += n;
        }
        return done;
      }),
    );
  }

  /** The ids at places [first, end) of one call, all or nothing: every id is checked before any is marked. */
  private ack(b: AckBatch, c: number, first: number, end: number, unknown: Map<number, string>, done: AckBatchDone): ErrorData | null {
    const { known } = b;
    const agentId = b.agents[c] as string;
    const at = b.at[c] as number;
    // Ids not leased here are looked up: seq, rank, state (acknowledged already?) and attempts.
    const looked = new Map<number, { seq: number; rank: number; state: string; attempts: number }>();
    for (let i = first; i < end; i++) {
      if ((known[i * 4] as number) >= 0) continue;
      const id = unknown.get(i) as string;
      const row = this.stmt('ackTarget').get({ recipient: agentId, id }) as { seq: number; state: string; rank: number; attempts: number } | undefined;
      if (row === undefined) return toErrorData(new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } }));
      looked.set(i, row);
    }
    if (b.strict[c] === 1) {
      const acked = [...looked].filter(([, r]) => r.state === 'acked').map(([i]) => unknown.get(i) as string);
      if (acked.length > 0) return toErrorData(new HubError('already_acked', `already acknowledged: ${acked.join(', ')}`, { details: { messages: acked } }));
    }
    const mark = this.stmt('markAcked');
    let n = 0;
    let redelivered = 0;
    for (let i = first; i < end; i++) {
      const row = looked.get(i);
      const seq = row?.seq ?? (known[i * 4] as number);
      const delivered = row === undefined ? (known[i * 4 + 2] as number) : Number.NaN;
      // A lease here counts the row's attempts and its own: never fewer than the row's.
      const attempts = row === undefined ? (known[i * 4 + 3] as number) : 0;
      if (mark.run(at, Number.isNaN(delivered) ? null : delivered, at, attempts, seq, agentId).changes > 0) {
        done.status[i] = ACKED;
        n += 1;
        redelivered += Math.max((row?.attempts ?? attempts) - 1, 0);
        if (row !== undefined) {
          done.found ??= new Float64Array(done.status.length * 2);
          done.found[i * 2] = row.rank;
          done.found[i * 2 + 1] = row.seq;
        }
      } else done.status[i] = ALREADY;
    }
    if (n > 0) this.stmt('addTotals').run(agentId, n, 0, redelivered);
    return null;
  }
}
