// The two group commits of the SQLite store, sends and acks, as functions of a connection. They
// run on the writer thread (writer.ts) when the store is a file, so that the hub's event loop goes
// on serving streams while a batch is written, or on the hub's own connection for `:memory:`.
// Inputs and outcomes are plain data: they cross threads by structured clone, errors included.
import type Database from 'better-sqlite3';
import type { Message } from '../../domain/message.js';
import { priorityRank } from '../../domain/message.js';
import { type ErrorCode, HubError } from '../../errors.js';
import type { AppendRequest } from '../store.js';
import { type MessageRow, messageParams } from './rows.js';

/** An error as data: rebuilt as a HubError on the other side. */
export interface ErrorData {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> | undefined };
}

export type Outcome<T> = T | ErrorData;

export type AppendDone = { status: 'created'; seq: number } | { status: 'duplicate'; row: MessageRow; recipients: string[]; requestHash: string };

/** One ack call: its ids, with what the caller already knows of them (leased here: open, row known). */
export interface AckRequest {
  agentId: string;
  at: number;
  strict: boolean;
  ids: { id: string; known: { seq: number; rank: number; state: string; delivered: number | null; attempts: number } | null }[];
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

export class Commits {
  constructor(
    private readonly db: Database.Database,
    private readonly stmt: (name: string) => Database.Statement,
    private readonly full: boolean,
  ) {}

  /** One group commit of sends: every item of the batch in one IMMEDIATE transaction, fsynced. */
  appends(items: AppendRequest[]): Outcome<AppendDone>[] {
    const findIdem = this.stmt('findIdempotent');
    const insertMessage = this.stmt('insertMessage');
    const insertDelivery = this.stmt('insertDelivery');
    const bySeq = this.stmt('getMessageBySeq');
    const recipientsOf = this.stmt('recipientsOf');
    const insertChannel = this.stmt('insertMessageChannel');
    return this.db
      .transaction(() =>
        items.map((req): Outcome<AppendDone> => {
          const m: Message = req.message;
          if (m.idempotencyKey !== null) {
            const prior = findIdem.get(m.sender, m.idempotencyKey) as { seq: number; request_hash: string } | undefined;
            if (prior !== undefined) {
              const row = bySeq.get(prior.seq) as MessageRow;
              const recipients = (recipientsOf.all(row.id) as { recipient: string }[]).map((r) => r.recipient);
              return { status: 'duplicate', row, recipients, requestHash: prior.request_hash };
            }
          }
          const seq = Number(insertMessage.run(messageParams(m, req.requestHash)).lastInsertRowid);
          const rank = priorityRank(m.priority);
          for (const r of req.recipients) insertDelivery.run(r, seq, rank);
          for (const c of req.channels ?? []) insertChannel.run(c, seq);
          return { status: 'created', seq };
        }),
      )
      .immediate();
  }

  /**
   * One group commit of acks: each item all or nothing, all items in one transaction. Committed
   * without fsync even under synchronous=FULL: in WAL mode the commit survives a crash of the
   * process; a power loss may lose the last acks, and those deliveries then come again, which
   * at-least-once allows. (Sends, which must never be lost, keep the fsync.)
   */
  acks(items: AckRequest[]): Outcome<AckDone>[] {
    const target = this.stmt('ackTarget');
    const mark = this.stmt('markAcked');
    return relaxed(this.db, this.full, () =>
      items.map((it): Outcome<AckDone> => {
        const rows: { seq: number; id: string; state: string; rank: number; delivered: number | null; attempts: number }[] = [];
        for (const { id, known } of it.ids) {
          if (known !== null) {
            rows.push({ id, ...known });
            continue;
          }
          const row = target.get({ recipient: it.agentId, id }) as { seq: number; id: string; state: string; rank: number } | undefined;
          if (row === undefined) return toErrorData(new HubError('message_not_found', `no message ${id} in the inbox of ${it.agentId}`, { details: { message: id } }));
          rows.push({ ...row, delivered: null, attempts: 0 });
        }
        if (it.strict) {
          const acked = rows.filter((r) => r.state === 'acked').map((r) => r.id);
          if (acked.length > 0) return toErrorData(new HubError('already_acked', `already acknowledged: ${acked.join(', ')}`, { details: { messages: acked } }));
        }
        const done: AckDone = { acked: [], already: [] };
        for (const row of rows) {
          const changed = mark.run({ recipient: it.agentId, seq: row.seq, at: it.at, delivered: row.delivered, attempts: row.attempts }).changes > 0;
          if (changed) done.acked.push([row.id, row.rank, row.seq]);
          else if (!done.already.includes(row.id) && !done.acked.some(([id]) => id === row.id)) done.already.push(row.id);
        }
        return done;
      }),
    );
  }
}
