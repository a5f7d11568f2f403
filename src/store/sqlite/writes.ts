// The SQLite store's writes besides sends and acks (task claims and changes, reads, inbox
// listings marking deliveries delivered, audit records, last-seen times, the sweep) as named
// operations on a connection. The resource modules ask for them by name (`Connection.write`); a
// group commit gathers those of one event-loop turn, and the writer thread (writer.ts) runs them
// in one transaction, each in a savepoint of its own: the hub's event loop never waits for the
// file's lock or an fsync. Without a writer thread (`:memory:`, or the thread died) they run on
// the hub's connection. Arguments and results are plain data: they cross threads by structured
// clone. (Registrations, tokens, channels, settings, nacks and the rare hand-out bookkeeping still
// write on the hub's connection: request-driven and rare, none of them periodic.)
import type Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { recordSeen } from './agents.js';
import { appendAudit } from './audit.js';
import { type ErrorData, relaxed, toErrorData } from './commits.js';
import { markDelivered, markRead } from './inbox.js';
import { sweepRows } from './leases.js';
import { storageError } from './storage-errors.js';
import { claimNext, createTask, decideReview, requestReview, updateTask } from './tasks.js';
import { touchToken } from './tokens.js';

/** What a write runs on: a connection and its prepared queries. */
export interface WriteContext {
  db: Database.Database;
  stmt(name: string): Database.Statement;
}

/**
 * A write that need not survive a power loss is `durable: false`: it commits without an fsync
 * even under synchronous=FULL (commits.ts `relaxed`), and the next durable commit fsyncs it along.
 * A batch is durable when any of its writes is.
 */
const WRITES = {
  createTask: { durable: true, run: createTask },
  claimNext: { durable: true, run: claimNext },
  updateTask: { durable: true, run: updateTask },
  requestReview: { durable: true, run: requestReview },
  decideReview: { durable: true, run: decideReview },
  markRead: { durable: true, run: markRead },
  markDelivered: { durable: false, run: markDelivered },
  appendAudit: { durable: true, run: appendAudit },
  touchToken: { durable: false, run: touchToken },
  recordSeen: { durable: false, run: recordSeen },
  sweep: { durable: false, run: sweepRows },
  probe: { durable: true, run: probe },
} as const;

/** A write that changes nothing (user_version set to itself), fsynced: can the disk take one again? */
function probe(c: WriteContext, _: null): null {
  const version = Number(c.db.pragma('user_version', { simple: true }));
  c.db.pragma(`user_version = ${version}`);
  return null;
}

export type WriteName = keyof typeof WRITES;
export type WriteArgs<N extends WriteName> = Parameters<(typeof WRITES)[N]['run']>[1];
export type WriteResult<N extends WriteName> = ReturnType<(typeof WRITES)[N]['run']>;

export interface WriteItem {
  name: WriteName;
  args: unknown;
}

/**
 * Runs a batch in one IMMEDIATE transaction. A write refused by the hub's rules (a HubError), or
 * by a constraint, is rolled back to its savepoint and answered alone; a storage failure (busy,
 * full disk, I/O error) fails the whole batch, as the transaction cannot go on.
 */
export function runWrites(c: WriteContext, full: boolean, items: WriteItem[]): (unknown | ErrorData)[] {
  const each = (): (unknown | ErrorData)[] =>
    items.map((it) => {
      const op = WRITES[it.name] as { run: (c: WriteContext, a: unknown) => unknown };
      try {
        return c.db.transaction(() => op.run(c, it.args))();
      } catch (e) {
        if (e instanceof HubError) return toErrorData(e);
        if (storageError(e) !== e) throw e;
        return toErrorData(new HubError('internal', `${it.name} failed: ${(e as Error).message}`, { cause: e }));
      }
    });
  const durable = items.some((it) => WRITES[it.name].durable);
  return durable ? c.db.transaction(each).immediate() : relaxed(c.db, full, each);
}
