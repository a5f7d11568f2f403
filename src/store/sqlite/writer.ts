// The writer thread: the SQLite store's group commits (sends and acks) on a connection of their
// own, so that the hub's event loop keeps serving streams and requests while a batch is written and
// fsynced. The hub's connection still reads, and makes the rare other writes; SQLite's WAL lets
// both work on one file, one writer at a time. Requests and answers are plain data (commits.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { Commits, indexSearch, toErrorData } from './commits.js';
import { loadQueries } from '../sql-files.js';

export interface WriterRequest {
  id: number;
  kind: 'appends' | 'acks';
  items: unknown[];
}

export type WriterAnswer = { id: number; outcomes: unknown[] } | { id: number; failed: ReturnType<typeof toErrorData> };

const { file, synchronous, indexMs, indexBatch } = workerData as { file: string; synchronous: 'full' | 'normal'; indexMs: number; indexBatch: number };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
// The hub's checkpointer thread moves the WAL; a commit here must not pay for it.
db.pragma('wal_autocheckpoint = 0');

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
const commits = new Commits(db, stmt, synchronous === 'full');

// Search indexing is deferred (migration 0003) and done here too, off the hub's event loop.
const indexer = setInterval(() => {
  try {
    indexSearch(db, stmt, synchronous === 'full', indexBatch);
  } catch {
    // Busy or closing: the next interval tries again.
  }
}, indexMs);

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
    const outcomes = m.kind === 'appends' ? commits.appends(m.items as Parameters<Commits['appends']>[0]) : commits.acks(m.items as Parameters<Commits['acks']>[0]);
    answer = { id: m.id, outcomes };
  } catch (e) {
    const err = e instanceof HubError ? e : new HubError('store_unavailable', `the store could not write: ${(e as Error).message}`);
    answer = { id: m.id, failed: toErrorData(err) };
  }
  parentPort?.postMessage(answer);
});
