// What the SQLite store's resource modules share: the open file (WAL mode) with its prepared
// queries, the threads around it (the writer of group commits, the WAL checkpointer, search
// indexing), and the per-agent hand-out queues, which the loss of the writer thread makes stale.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { loadQueries } from '../sql-files.js';
import type { SchemaInfo } from '../store.js';
import { Commits, indexSearch, relaxed } from './commits.js';
import type { AgentQueue } from './lease-book.js';
import { migrate } from './migrate.js';
import { WriterThread } from './writer-thread.js';

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
  private readonly file: string;
  private readonly q: Record<string, Database.Statement>;
  /** Search indexing on this connection: when there is no writer thread to do it. */
  private indexer: NodeJS.Timeout | null = null;
  private checkpointer: Worker | null = null;

  /** Opens (creating the directory) and migrates `dir`/swarm.db, or a `:memory:` database. */
  constructor(
    dir: string,
    private readonly synchronous: 'full' | 'normal',
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
    const writer = new WriterThread(this.file, { synchronous: this.synchronous, indexMs: INDEX_MS, indexBatch: INDEX_BATCH }, (unexpected) => {
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

  async ping(): Promise<void> {
    this.live();
    this.db.prepare('SELECT 1').get();
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
