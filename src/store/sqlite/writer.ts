// The writer thread: the SQLite store's writes (group commits of sends and acks, and the other
// writes of writes.ts) on a connection of its own, so that the hub's event loop keeps serving
// streams and requests while a batch is written and fsynced. The hub's connection reads, and makes
// the rare other writes; SQLite's WAL lets both work on one file, one writer at a time. Requests
// and answers are plain data (commits.ts); a failure comes back typed (storage-errors.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { Commits, indexSearch, toErrorData } from './commits.js';
import { loadQueries } from '../sql-files.js';
import { writerError } from './storage-errors.js';
import { WalLimit } from './wal-limit.js';
import { runWrites, type WriteItem } from './writes.js';

export interface WriterRequest {
  id: number;
  kind: 'appends' | 'acks' | 'writes';
  items: unknown[];
}

export type WriterAnswer = { id: number; outcomes: unknown[] } | { id: number; failed: ReturnType<typeof toErrorData> };

export interface WriterOptions {
  synchronous: 'full' | 'normal';
  indexMs: number;
  indexBatch: number;
  /** store.walLimitMiB in bytes (wal-limit.ts). */
  walLimitBytes: number;
}

const { file, synchronous, indexMs, indexBatch, walLimitBytes } = workerData as WriterOptions & { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
// The hub's checkpointer thread moves the WAL; a commit here must not pay for it.
db.pragma('wal_autocheckpoint = 0');
const wal = new WalLimit(db, `${file}-wal`, walLimitBytes);

const sql = loadQueries(new URL('queries.sql', import.meta.url));
const prepared = new Map<string, Database.Statement>();
function stmt(name: string): Database.Statement {
  let s = prepared.get(name);
  if (s === undefined) {
    const text = sql[name];
    if (text === undefined) throw new HubError('internal', `no query named ${name}`);
    prepared.set(name, (s = db.prepare(text)));
  }
  return s;
}
const full = synchronous === 'full';
const commits = new Commits(db, stmt, full);

// Search indexing is deferred (migration 0003) and done here too, off the hub's event loop.
const indexer = setInterval(() => {
  try {
    indexSearch(db, stmt, full, indexBatch);
  } catch {
    // Busy or closing: the next interval tries again.
  }
}, indexMs);

function run(m: WriterRequest): unknown[] {
  wal.enforce();
  if (m.kind === 'appends') return commits.appends(m.items as Parameters<Commits['appends']>[0]);
  if (m.kind === 'acks') return commits.acks(m.items as Parameters<Commits['acks']>[0]);
  return runWrites({ db, stmt }, full, m.items as WriteItem[]);
}

parentPort?.on('message', (m: WriterRequest | 'stop' | 'autocheckpoint') => {
  if (m === 'autocheckpoint') {
    db.pragma('wal_autocheckpoint = 1000');
    return;
  }
  if (m === 'stop') {
    clearInterval(indexer);
    db.close();
    parentPort?.close();
    return;
  }
  let answer: WriterAnswer;
  try {
    answer = { id: m.id, outcomes: run(m) };
  } catch (e) {
    answer = { id: m.id, failed: toErrorData(writerError(e)) };
  }
  parentPort?.postMessage(answer);
});
