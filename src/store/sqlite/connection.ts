// What the SQLite store's resource modules share: the open file (WAL mode) with its prepared
// queries, the threads around it (the writer of group commits and other writes, the WAL
// checkpointer, search indexing), the per-agent hand-out queues, which the loss of the writer
// thread makes stale, and the store's health: a disk that failed a write makes it unready until
// a write succeeds again.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { GroupCommit } from '../group-commit.js';
import { loadQueries } from '../sql-files.js';
import type { SchemaInfo } from '../store.js';
import { Commits, fromErrorData, indexSearch, isErrorData, relaxed } from './commits.js';
import type { AgentQueue } from './lease-book.js';
import { migrate } from './migrate.js';
import { storageError } from './storage-errors.js';
import { WalLimit, walBytes } from './wal-limit.js';
import type { WriterRequest } from './writer.js';
import { WriterThread } from './writer-thread.js';
import { runWrites, type WriteArgs, type WriteItem, type WriteName, type WriteResult } from './writes.js';

export const DB_FILE = 'swarm.db';

/** Search indexing: how often, and how many messages per transaction. */
const INDEX_MS = 250;
const INDEX_BATCH = 5000;
/** How often the checkpoint worker moves the WAL into the database file. */
const CHECKPOINT_MS = 1000;
/** Entries per read cache before it is cleared (agents.ts, tokens.ts). */
export const CACHE_MAX = 10_000;

export class Connection {
  readonly db: Database.Database;
  readonly full: boolean;
  readonly commits: Commits;
  readonly schemaInfo: SchemaInfo;
  closed = false;
  /** Sends and acks are committed there when it runs (`startWriter`). */
  writer: WriterThread | null = null;
  /** Per agent that has had a hand-out: its open deliveries and leases (lease-book.ts). */
  readonly queues = new Map<string, AgentQueue>();
  /** Every message up to this seq has joined the hand-out queues (loadPage reads no further). */
  appliedSeq: number;
  /** Why the last write failed with an I/O error; null once a write succeeded (ping, /readyz). */
  ioFailure: string | null = null;
  /** The database file (`:memory:` for a store in memory). */
  readonly file: string;
  private readonly writes: GroupCommit<WriteItem, unknown>;
  /** Keeps the WAL bounded when this connection commits (no writer thread). */
  private readonly wal: WalLimit | null = null;
  private readonly q: Record<string, Database.Statement>;
  /** Search indexing on this connection: when there is no writer thread to do it. */
  private indexer: NodeJS.Timeout | null = null;
  private checkpointer: Worker | null = null;

  /** Opens (creating the directory) and migrates `dir`/swarm.db, or a `:memory:` database. */
  constructor(
    dir: string,
    private readonly synchronous: 'full' | 'normal',
    private readonly walLimitBytes: number,
    batchMax: number,
  ) {
    let file = ':memory:';
    if (dir !== ':memory:') {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      file = join(dir, DB_FILE);
    }
    this.file = file;
    try {
      this.db = new Database(file);
    } catch (e) {
      throw new HubError('store_unavailable', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('temp_store = MEMORY');
      if (file !== ':memory:') this.wal = new WalLimit(this.db, `${file}-wal`, walLimitBytes);
      this.schemaInfo = migrate(this.db);
    } catch (e) {
      this.db.close();
      if (e instanceof HubError) throw e;
      throw new HubError('store_unavailable', `cannot prepare ${file}: ${(e as Error).message}`, { cause: e });
    }
    const sql = loadQueries(new URL('queries.sql', import.meta.url));
    this.q = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, this.db.prepare(text)]));
    this.full = synchronous === 'full';
    this.commits = new Commits(this.db, (name) => this.stmt(name), this.full);
    this.appliedSeq = (this.stmt('maxSeq').get() as { n: number }).n;
    this.writes = new GroupCommit({
      maxBatch: batchMax,
      commit: (items: WriteItem[]) => {
        const done = (outcomes: unknown[]): unknown[] => outcomes.map((o) => (isErrorData(o) ? fromErrorData(o) : o));
        const out = this.commit('writes', items, () => runWrites({ db: this.db, stmt: (name) => this.stmt(name) }, this.full, items));
        return out instanceof Promise ? out.then(done) : done(out);
      },
    });
  }

  /** A write of writes.ts, on the writer thread; resolves once it is committed. */
  write<N extends WriteName>(name: N, args: WriteArgs<N>): Promise<WriteResult<N>> {
    try {
      this.live();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.writes.submit({ name, args }) as Promise<WriteResult<N>>;
  }

  /**
   * One commit (a batch of sends, acks or writes) on the writer thread, or with `local` on this
   * connection when there is none. Storage failures come out typed; whether the disk took it is
   * noted for ping.
   */
  commit<T>(kind: WriterRequest['kind'], items: unknown[], local: () => T[]): T[] | Promise<T[]> {
    const w = this.writer;
    if (w === null) {
      try {
        this.wal?.enforce();
        const out = local();
        this.ioFailure = null;
        return out;
      } catch (e) {
        throw this.failed(e);
      }
    }
    return w.call(kind, items).then(
      (out) => {
        this.ioFailure = null;
        return out as T[];
      },
      (e: unknown) => {
        throw this.failed(e);
      },
    );
  }

  /** `e` typed (storage-errors.ts); an I/O error makes the store unready until a write succeeds. */
  failed(e: unknown): unknown {
    const typed = storageError(e);
    if (typed instanceof HubError && typed.code === 'storage_io_error') this.ioFailure = typed.message;
    return typed;
  }

  /** The size of the `-wal` file now (0 for `:memory:`): the swarm_store_wal_bytes gauge. */
  walBytes(): number {
    return this.file === ':memory:' ? 0 : walBytes(`${this.file}-wal`);
  }

  /** Lets the writes already submitted commit; refuses new ones (close). */
  drainWrites(): Promise<void> {
    return this.writes.drain();
  }

  /** A file's threads start (writer, checkpointer); `:memory:` indexes search here instead. */
  start(warn?: (message: string) => void): void {
    if (this.file !== ':memory:') {
      this.startCheckpointer();
      this.startWriter(warn);
    } else this.startIndexer();
  }

  private startIndexer(): void {
    this.indexer ??= setInterval(() => this.indexSearch(INDEX_BATCH), INDEX_MS);
    this.indexer.unref();
  }

  /**
   * Sends and acks are committed on a thread of their own (writer.ts). Should it die, they are
   * committed here again; what it may have committed unanswered is read afresh from the file.
   */
  private startWriter(warn?: (message: string) => void): void {
    const writer = new WriterThread(this.file, { synchronous: this.synchronous, indexMs: INDEX_MS, indexBatch: INDEX_BATCH, walLimitBytes: this.walLimitBytes }, (unexpected) => {
      if (this.writer === writer) this.writer = null;
      if (unexpected && !this.closed) {
        this.appliedSeq = (this.stmt('maxSeq').get() as { n: number }).n;
        this.queues.clear();
        this.startIndexer();
        warn?.('the store\'s writer thread ended; sends and acks are now committed on the event loop');
      }
    });
    this.writer = writer;
  }

  /** Checkpoints move to a worker thread; if it ever dies, SQLite's own autocheckpoint resumes. */
  private startCheckpointer(): void {
    const worker = new Worker(new URL('./checkpointer.js', import.meta.url), { workerData: { file: this.file, intervalMs: CHECKPOINT_MS } });
    worker.unref();
    this.db.pragma('wal_autocheckpoint = 0');
    worker.once('exit', () => {
      if (this.checkpointer === worker) {
        this.checkpointer = null;
        if (!this.closed) {
          this.db.pragma('wal_autocheckpoint = 1000');
          this.writer?.autocheckpoint();
        }
      }
    });
    worker.on('error', () => undefined);
    this.checkpointer = worker;
  }

  /** Adds up to `limit` not yet indexed messages to the search index; returns how many. */
  private indexSearch(limit: number): number {
    if (this.closed) return 0;
    return indexSearch(this.db, (name) => this.stmt(name), this.full, limit);
  }

  /** Indexes every committed message still waiting for the search index. */
  indexAll(): void {
    while (this.indexSearch(INDEX_BATCH) > 0);
  }

  /** A write transaction that need not survive a power loss (commits.ts). */
  relaxed<T>(fn: () => T): T {
    return relaxed(this.db, this.full, fn);
  }

  stmt(name: string): Database.Statement {
    const s = this.q[name];
    if (s === undefined) throw new HubError('internal', `no query named ${name}`);
    return s;
  }

  live(): void {
    if (this.closed) throw new HubError('store_unavailable', 'the store is closed');
  }

  /**
   * The store answers a query and, after a write failed with an I/O error, can write again: a
   * probe write is tried each time until one succeeds (`/readyz` is unready meanwhile).
   */
  async ping(): Promise<void> {
    this.live();
    this.db.prepare('SELECT 1').get();
    if (this.ioFailure === null) return;
    await this.write('probe', null).catch(() => undefined);
    const failure = this.ioFailure;
    if (failure !== null) throw new HubError('storage_io_error', `the store's disk fails writes: ${failure}`);
  }

  /** Ends the threads (after the last group commits), the search index brought up to date. */
  async stopThreads(): Promise<void> {
    await this.writer?.stop();
    if (this.indexer !== null) clearInterval(this.indexer);
    this.indexAll();
    const worker = this.checkpointer;
    this.checkpointer = null;
    if (worker !== null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.ref(); // keep this process alive until the worker has finished its last checkpoint
      worker.postMessage('stop');
      await exited;
    }
  }

  close(): void {
    this.closed = true;
    this.db.close();
  }
}
