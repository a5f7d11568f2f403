// The embedded default store: one SQLite file in WAL mode (better-sqlite3 12.x, synchronous API).
// Sends go through a GroupCommit so that concurrent sends share one transaction and one fsync.
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Agent, Presence } from '../../domain/agent.js';
import { type AuditRecord, canonicalJson, chainNext, type NewAuditRecord } from '../../domain/audit.js';
import type { InboxItem, Message } from '../../domain/message.js';
import { OPEN_STATES, priorityRank } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { GroupCommit } from '../group-commit.js';
import type {
  AckOptions,
  AckResult,
  AppendRequest,
  AppendResult,
  AuditQuery,
  DeadLetter,
  HistoryQuery,
  InboxQuery,
  LeasedItem,
  LeaseOptions,
  LeaseRequest,
  NewAgent,
  NewChannel,
  NewTask,
  QueueStat,
  SchemaInfo,
  SettingChange,
  StoreEvent,
  Store,
  TaskPatch,
  TaskQuery,
  Template,
  TokenInfo,
  TokenMatch,
  TokenRecord,
} from '../store.js';
import type { Channel } from '../../domain/channel.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../../domain/task.js';
import { fits } from '../../domain/task.js';
import { migrate } from './migrate.js';
import {
  type AgentRow,
  type ChannelRow,
  type InboxRow,
  type MessageRow,
  type ReviewRow,
  type TaskRow,
  taskParams,
  toAgent,
  toChannel,
  toInboxItem,
  toMessage,
  toReview,
  toTask,
  type TokenMatchRow,
  type TokenRow,
  toTokenInfo,
  toTokenMatch,
} from '../rows.js';
import { loadQueries } from '../sql-files.js';
import { type AuditRow, toAuditRecord } from '../audit-rows.js';
import { AgentQueue, type Entry, type OpenState, RANKS } from './lease-book.js';
import { type AckDone, type AckRequest, addExpired, type AppendDone, type AppendItem, Commits, fromErrorData, indexSearch, isErrorData, knownRows, type Outcome, relaxed } from './commits.js';
import { WriterThread } from './writer-thread.js';

export interface SqliteStoreOptions {
  /** Directory holding `swarm.db`; or `:memory:` for a throwaway store. */
  dir: string;
  synchronous: 'full' | 'normal';
  batchMax?: number;
  /** Told of every group commit: what, how many items, how long (metrics). */
  onCommit?: (kind: 'send' | 'ack', size: number, seconds: number) => void;
  /** Told of what an operator should know and nobody asked about (the writer thread dying). */
  onWarning?: (message: string) => void;
  /**
   * Fewest recipients that make a message a fan-out message (`isFanOut`; default 16). The
   * conformance suite also runs with 1, so that most of its messages take that path.
   */
  fanOutMin?: number;
}

export const DB_FILE = 'swarm.db';

/** Search indexing: how often, and how many messages per transaction. */
const INDEX_MS = 250;
const INDEX_BATCH = 5000;
/** How often the checkpoint worker moves the WAL into the database file. */
const CHECKPOINT_MS = 1000;

/** Entries per read cache before it is cleared. */
const CACHE_MAX = 10_000;
/** Fewest recipients of a fan-out message (`isFanOut`): below it, the inbox index costs little. */
const FANOUT_MIN = 16;
/** Open deliveries read into an agent's hand-out queue at a time. */
const PAGE = 256;
/** Ready deliveries an agent's queue may hold before it is cut back to a page (lease-book.ts `trim`). */
const READY_MAX = 4 * PAGE;
/** Messages kept for the hand-outs right after they were written or read: this many at most, ... */
const RECENT_MAX = 4096;
/** ... and this many characters of subject and body together (one message may be megabytes). */
const RECENT_MAX_CHARS = 16 * 1024 * 1024;

/** A delivery just expired (queries.sql: expireOne, sweepExpired). */
type ExpiredRow = { recipient: string; attempts: number };

/** A page row of an agent's open deliveries (queries.sql: openPage). */
interface OpenRow {
  seq: number;
  rank: number;
  fanout: number;
  state: OpenState;
  delivered_at: number | null;
  read_at: number | null;
  attempts: number;
  visible_at: number | null;
  id: string;
  expires_at: number | null;
}

interface DeadRow {
  recipient: string;
  id: string;
  seq: number;
  rank: number;
  fanout: number;
  delivered_at: number | null;
  read_at: number | null;
  expires_at: number | null;
}

function newEntry(seq: number, rank: number, fanout: boolean, messageId: string, expiresAt: number | null): Entry {
  return { seq, rank, fanout, messageId, expiresAt, state: 'pending', deliveredAt: null, readAt: null, attempts: 0, storedAttempts: 0, visibleAt: null, until: 0, owner: '', handout: 0 };
}

interface AckItem {
  agentId: string;
  messageIds: string[];
  at: number;
  strict: boolean;
}

/** FTS5 query from user text: each word quoted, so operators and punctuation are taken literally. */
export function ftsQuery(text: string): string | null {
  // NUL splits words too: SQLite would end the query string there ("unterminated string").
  const words = text.split(/[\s\0]+/).filter((w) => w !== '');
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' ');
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  /** One process owns the file: there is nobody to tell. */
  readonly shared = false;

  async publish(_e: StoreEvent): Promise<void> {}

  onEvent(_handler: (e: StoreEvent) => void): () => void {
    return () => undefined;
  }

  private readonly db: Database.Database;
  private readonly q: Record<string, Database.Statement>;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private readonly acks: GroupCommit<AckItem, AckResult>;
  private readonly full: boolean;
  private handout = 0;
  /**
   * Read caches for the two lookups every request makes (token -> agent, agent by id). This
   * process is the only writer of the file, so every write below updates or clears them; measured
   * at about 30 µs of a 164 µs send (docs/benchmarks.md).
   */
  private readonly agents = new Map<string, Agent | null>();
  /** Every agent, as listAgents answers (null: read it again). */
  private roster: Agent[] | null = null;
  /** Search indexing on this connection: when there is no writer thread to do it. */
  private indexer: NodeJS.Timeout | null = null;
  private checkpointer: Worker | null = null;
  private readonly tokens = new Map<string, TokenMatch | null>();
  private readonly schemaInfo: SchemaInfo;
  private closed = false;
  /** Per agent that has had a hand-out: its open deliveries and leases (lease-book.ts). */
  private readonly queues = new Map<string, AgentQueue>();
  private readonly fanOutMin: number;
  /** Per agent, two per priority rank (indexed, fan-out): below them all is closed (`floors`). */
  private readonly floorsByAgent = new Map<string, number[]>();
  /** Agents whose floors rose since they were last saved. */
  private readonly floorsMoved = new Set<string>();
  /** Every message up to this seq has joined the hand-out queues (loadPage reads no further). */
  private appliedSeq = 0;
  private readonly commits: Commits;
  private writer: WriterThread | null = null;
  /** Recently written or read messages by seq (messageBySeq). */
  private readonly recent = new Map<number, Message>();
  private recentChars = 0;

  constructor(opts: SqliteStoreOptions) {
    let file = ':memory:';
    if (opts.dir !== ':memory:') {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      file = join(opts.dir, DB_FILE);
    }
    try {
      this.db = new Database(file);
    } catch (e) {
      throw new HubError('store_unavailable', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
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
    this.full = opts.synchronous === 'full';
    this.fanOutMin = opts.fanOutMin ?? FANOUT_MIN;
    this.commits = new Commits(this.db, (name) => this.stmt(name), this.full);
    type Outcomes<O> = (O | Error)[] | Promise<(O | Error)[]>;
    const timed = <I, O>(kind: 'send' | 'ack', fn: (items: I[]) => Outcomes<O>) => (items: I[]): Outcomes<O> => {
      const t0 = performance.now();
      const report = (): void => opts.onCommit?.(kind, items.length, (performance.now() - t0) / 1000);
      const out = fn(items);
      if (out instanceof Promise) return out.finally(report);
      report();
      return out;
    };
    this.appends = new GroupCommit({ maxBatch: opts.batchMax ?? 512, commit: timed('send', (items: AppendRequest[]) => this.commitAppends(items)) });
    this.acks = new GroupCommit({ maxBatch: opts.batchMax ?? 512, commit: timed('ack', (items: AckItem[]) => this.commitAcks(items)) });
    this.handout = (this.stmt('maxHandout').get() as { n: number }).n;
    this.appliedSeq = (this.stmt('maxSeq').get() as { n: number }).n;
    for (const r of this.stmt('loadFloors').all() as { recipient: string; slot: number; seq: number }[]) this.floorsOf(r.recipient)[r.slot] = r.seq;
    if (file !== ':memory:') {
      this.startCheckpointer(file);
      this.startWriter(file, opts.synchronous, opts.onWarning);
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
  private startWriter(file: string, synchronous: 'full' | 'normal', warn?: (message: string) => void): void {
    const writer = new WriterThread(file, { synchronous, indexMs: INDEX_MS, indexBatch: INDEX_BATCH }, (unexpected) => {
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
  private startCheckpointer(file: string): void {
    const worker = new Worker(new URL('./checkpointer.js', import.meta.url), { workerData: { file, intervalMs: CHECKPOINT_MS } });
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

  /** A write transaction that need not survive a power loss (commits.ts). */
  private relaxed<T>(fn: () => T): T {
    return relaxed(this.db, this.full, fn);
  }

  private stmt(name: string): Database.Statement {
    const s = this.q[name];
    if (s === undefined) throw new HubError('internal', `no query named ${name}`);
    return s;
  }

  private live(): void {
    if (this.closed) throw new HubError('store_unavailable', 'the store is closed');
  }

  async ping(): Promise<void> {
    this.live();
    this.db.prepare('SELECT 1').get();
  }

  async schema(): Promise<SchemaInfo> {
    return this.schemaInfo;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([this.appends.drain(), this.acks.drain()]);
    await this.writer?.stop();
    if (this.indexer !== null) clearInterval(this.indexer);
    while (this.indexSearch(INDEX_BATCH) > 0);
    const worker = this.checkpointer;
    this.checkpointer = null;
    if (worker !== null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.ref(); // keep this process alive until the worker has finished its last checkpoint
      worker.postMessage('stop');
      await exited;
    }
    try {
      this.relaxed(() => this.saveFloors());
    } catch {
      // Floors are a shortcut: one not saved is only found again by reading further next time.
    }
    this.closed = true;
    this.db.close();
  }

  // ---- agents ---------------------------------------------------------------------------------

  async createAgent(a: NewAgent): Promise<Agent> {
    this.live();
    const isNew = this.stmt('agentKnown').get(a.id) === undefined;
    const r = this.stmt('insertAgent').run({
      id: a.id,
      role: a.role,
      specialty: a.specialty,
      capabilities: JSON.stringify(a.capabilities),
      created_at: a.createdAt,
    });
    if (r.changes === 0) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    if (isNew) {
      // No delivery can be addressed to an agent before it exists: its inbox walks start here,
      // not at the first fan-out message ever (an agent removed and registered again keeps its own).
      this.floorsOf(a.id).fill(this.appliedSeq + 1);
      this.floorsMoved.add(a.id);
    }
    this.forgetAgent(a.id);
    this.tokens.clear(); // unknown-token answers may now be stale
    return this.mustGetAgent(a.id);
  }

  private mustGetAgent(id: string): Agent {
    const row = this.stmt('getAgent').get(id) as AgentRow | undefined;
    if (row === undefined) throw new HubError('agent_not_found', `unknown agent ${id}`);
    return toAgent(row);
  }

  async getAgent(id: string): Promise<Agent | null> {
    this.live();
    const cached = this.agents.get(id);
    if (cached !== undefined) return cached === null ? null : { ...cached, capabilities: [...cached.capabilities] };
    const row = this.stmt('getAgent').get(id) as AgentRow | undefined;
    const agent = row === undefined ? null : toAgent(row);
    if (this.agents.size >= CACHE_MAX) this.agents.clear();
    this.agents.set(id, agent);
    return agent === null ? null : { ...agent, capabilities: [...agent.capabilities] };
  }

  async listAgents(): Promise<Agent[]> {
    this.live();
    return this.cachedRoster().map((a) => ({ ...a, capabilities: [...a.capabilities] }));
  }

  /** An agent was written: the caches must not answer for it. */
  private forgetAgent(id: string): void {
    this.agents.delete(id);
    this.roster = null;
  }

  async removeAgent(id: string, at: number): Promise<boolean> {
    this.live();
    return this.db.transaction(() => {
      const r = this.stmt('removeAgent').run({ id, at });
      this.forgetAgent(id);
      this.tokens.clear();
      if (r.changes === 0) return false;
      this.stmt('revokeTokensOf').run({ id, at });
      return true;
    }).immediate();
  }

  async setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null> {
    this.live();
    const r = this.stmt('setStatus').run({ id, status, mission, at });
    this.forgetAgent(id);
    return r.changes === 0 ? null : this.mustGetAgent(id);
  }

  async recordSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    this.live();
    if (seen.size === 0) return;
    const s = this.stmt('recordSeen');
    this.db.transaction(() => {
      for (const [id, at] of seen) s.run({ id, at });
    }).immediate();
    for (const id of seen.keys()) this.forgetAgent(id);
  }

  // ---- tokens ---------------------------------------------------------------------------------

  async createToken(t: TokenRecord): Promise<void> {
    this.live();
    this.stmt('insertToken').run({
      id: t.id,
      agent_id: t.agentId,
      hash: t.hash,
      label: t.label,
      created_at: t.createdAt,
      expires_at: t.expiresAt ?? null,
      scopes: t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes),
    });
    this.tokens.delete(t.hash.toString('hex'));
  }

  async findToken(hash: Buffer): Promise<TokenMatch | null> {
    this.live();
    const key = hash.toString('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached === null ? null : { ...cached, scopes: cached.scopes === null ? null : [...cached.scopes] };
    const row = this.stmt('findToken').get(hash) as TokenMatchRow | undefined;
    const found = row === undefined ? null : toTokenMatch(row);
    // Bounded: a flood of random tokens must not grow memory.
    if (this.tokens.size >= CACHE_MAX) this.tokens.clear();
    this.tokens.set(key, found);
    return found;
  }

  async hasLiveToken(agentId: string): Promise<boolean> {
    this.live();
    return this.stmt('hasLiveToken').get(agentId) !== undefined;
  }

  async getToken(id: string): Promise<TokenInfo | null> {
    this.live();
    const row = this.stmt('getToken').get(id) as TokenRow | undefined;
    return row === undefined ? null : toTokenInfo(row);
  }

  async listTokens(agentId: string | null): Promise<TokenInfo[]> {
    this.live();
    return (this.stmt('listTokens').all({ agent_id: agentId }) as TokenRow[]).map(toTokenInfo);
  }

  async revokeToken(id: string, at: number): Promise<{ agentId: string } | null> {
    this.live();
    const row = this.stmt('revokeToken').get({ id, at }) as { agent_id: string; hash: Buffer } | undefined;
    // The cache must not answer for a revoked token, not even once.
    this.tokens.clear();
    return row === undefined ? null : { agentId: row.agent_id };
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.live();
    this.stmt('touchToken').run({ id, at });
  }

  // ---- messages -------------------------------------------------------------------------------

  appendMessage(req: AppendRequest): Promise<AppendResult> {
    this.live();
    return this.appends.submit(req);
  }

  /** One group commit of sends (commits.ts), on the writer thread when there is one. */
  private commitAppends(reqs: AppendRequest[]): (AppendResult | Error)[] | Promise<(AppendResult | Error)[]> {
    const items: AppendItem[] = reqs.map((r) => ({ ...r, fanout: this.isFanOut(r.recipients.length) }));
    const w = this.writer;
    if (w === null) return this.applyAppends(items, this.commits.appends(items));
    return w.call('appends', items).then((o) => this.applyAppends(items, o as Outcome<AppendDone>[]));
  }

  /**
   * A message to this many recipients is a fan-out message (migration 0009): its deliveries stay
   * out of the per-agent inbox index, and every agent's inbox walk looks at it. Worth it when it
   * reaches at least half the roster, so that the walks mostly find a delivery of their agent.
   */
  private isFanOut(recipients: number): boolean {
    return recipients >= this.fanOutMin && recipients * 2 >= this.cachedRoster().length;
  }

  /** Committed: the new deliveries join the hand-out queues that cover them. */
  private applyAppends(items: AppendItem[], outcomes: Outcome<AppendDone>[]): (AppendResult | Error)[] {
    return outcomes.map((o, i): AppendResult | Error => {
      const req = items[i] as AppendItem;
      if (isErrorData(o)) return fromErrorData(o);
      if (o.status === 'duplicate') return { status: 'duplicate', message: toMessage(o.row), recipients: o.recipients, requestHash: o.requestHash };
      const m = req.message;
      this.remember(o.seq, m);
      if (o.seq > this.appliedSeq) this.appliedSeq = o.seq;
      const rank = priorityRank(m.priority);
      for (const r of req.recipients) {
        const q = this.queues.get(r);
        if (q === undefined || !q.covers(rank, o.seq)) continue;
        q.insert(newEntry(o.seq, rank, req.fanout, m.id, m.expiresAt));
        if (q.readyCount() > READY_MAX) q.trim(PAGE);
      }
      return { status: 'created', message: m, recipients: req.recipients };
    });
  }

  /** Every broadcast to `all` reads the roster: kept until an agent changes. */
  private cachedRoster(): Agent[] {
    this.roster ??= (this.stmt('listAgents').all() as AgentRow[]).map(toAgent);
    return this.roster;
  }

  /** Keeps a just-written or just-read message for the hand-outs that follow (a broadcast: one per agent). */
  private remember(seq: number, m: Message): void {
    const chars = m.subject.length + m.body.length;
    if (chars > RECENT_MAX_CHARS / 4 || this.recent.has(seq)) return;
    while (this.recent.size > 0 && (this.recent.size >= RECENT_MAX || this.recentChars + chars > RECENT_MAX_CHARS)) {
      const [oldest, old] = this.recent.entries().next().value as [number, Message];
      this.forgetRecent(oldest, old);
    }
    this.recent.set(seq, m);
    this.recentChars += chars;
  }

  private forgetRecent(seq: number, m: Message): void {
    if (this.recent.delete(seq)) this.recentChars -= m.subject.length + m.body.length;
  }

  private messageBySeq(seq: number): Message {
    const cached = this.recent.get(seq);
    if (cached !== undefined) return cached;
    const m = toMessage(this.stmt('getMessageBySeq').get(seq) as MessageRow);
    this.remember(seq, m);
    return m;
  }

  async getMessage(id: string): Promise<Message | null> {
    this.live();
    const row = this.stmt('getMessage').get(id) as MessageRow | undefined;
    return row === undefined ? null : toMessage(row);
  }

  async recipientsOf(messageId: string): Promise<string[]> {
    this.live();
    return (this.stmt('recipientsOf').all(messageId) as { recipient: string }[]).map((r) => r.recipient);
  }

  async inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    this.live();
    const at = Date.now();
    const states = JSON.stringify(q.states);
    return this.relaxed(() => {
      let rows: InboxRow[];
      if (q.states.includes('acked')) rows = this.stmt('inboxAll').all({ recipient: agentId, states, limit: q.limit }) as InboxRow[];
      else {
        rows = [];
        const open = this.stmt('inboxOpen');
        for (let rank = RANKS - 1; rank >= 0 && rows.length < q.limit; rank--) {
          const [indexed, fanout] = this.floors(agentId, rank);
          rows.push(...(open.all({ recipient: agentId, rank, floor_indexed: indexed, floor_fanout: fanout, states, now: at, limit: q.limit - rows.length }) as InboxRow[]));
        }
      }
      const mark = this.stmt('markDelivered');
      for (const r of rows) {
        this.overlay(r);
        if (r.d_state === 'pending') {
          mark.run({ recipient: agentId, seq: r.seq, at });
          r.d_state = 'delivered';
          r.d_delivered_at = at;
          const e = this.queues.get(agentId)?.find(r.id, r.priority, r.seq);
          if (e !== undefined && e.state === 'pending') {
            e.state = 'delivered';
            e.deliveredAt = at;
          }
        }
      }
      return rows.map(toInboxItem);
    });
  }

  /** A delivery leased here is delivered, though its row learns so only when the lease ends. */
  private overlay(r: InboxRow): InboxRow {
    const e = this.queues.get(r.d_recipient)?.leases.get(r.id);
    if (e !== undefined && r.d_state === 'pending') {
      r.d_state = e.state;
      r.d_delivered_at = e.deliveredAt;
    }
    if (e !== undefined) r.d_attempts = Math.max(r.d_attempts, e.attempts);
    return r;
  }

  async inboxItem(agentId: string, messageId: string): Promise<InboxItem | null> {
    this.live();
    const row = this.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow | undefined;
    return row === undefined ? null : toInboxItem(this.overlay(row));
  }

  async markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null> {
    this.live();
    return this.db.transaction(() => {
      const row = this.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow | undefined;
      if (row === undefined) return null;
      if (this.stmt('markRead').run({ recipient: agentId, seq: row.seq, at }).changes > 0) {
        const e = this.queues.get(agentId)?.find(row.id, row.priority, row.seq);
        if (e !== undefined) {
          e.state = 'read';
          e.readAt = at;
          e.deliveredAt ??= at;
        }
      }
      return toInboxItem(this.overlay(this.stmt('inboxItem').get({ recipient: agentId, id: messageId }) as InboxRow));
    }).immediate();
  }

  ack(agentId: string, messageIds: string[], at: number, opts: AckOptions = {}): Promise<AckResult> {
    this.live();
    return this.acks.submit({ agentId, messageIds, at, strict: opts.strict === true });
  }

  /**
   * One group commit of acks (commits.ts). A delivery leased here is known to be open, and its row
   * is known: the commit needs no lookup for it.
   */
  private commitAcks(items: AckItem[]): (AckResult | Error)[] | Promise<(AckResult | Error)[]> {
    const reqs: AckRequest[] = items.map((it) => {
      const q = this.queues.get(it.agentId);
      return { agentId: it.agentId, at: it.at, strict: it.strict, ids: it.messageIds, known: knownRows(it.messageIds, (id) => q?.leases.get(id)) };
    });
    const w = this.writer;
    if (w === null) return this.applyAcks(reqs, this.commits.acks(reqs));
    return w.call('acks', reqs).then((o) => this.applyAcks(reqs, o as Outcome<AckDone>[]));
  }

  /** Acknowledged deliveries leave the hand-out queues. */
  private applyAcks(reqs: AckRequest[], outcomes: Outcome<AckDone>[]): (AckResult | Error)[] {
    return outcomes.map((o, i): AckResult | Error => {
      if (isErrorData(o)) return fromErrorData(o);
      const q = this.queues.get((reqs[i] as AckRequest).agentId);
      if (q !== undefined) for (const [id, rank, seq] of o.acked) q.forget(id, rank, seq);
      return { acked: o.acked.map(([id]) => id), already: o.already };
    });
  }

  // ---- leases -----------------------------------------------------------------------------------
  // Leases live in memory (lease-book.ts): a hand-out writes nothing unless a delivery turns out
  // expired or exhausted, or an ended lease's attempts must be stored.

  /** The agent's hand-out queue, created on first use. */
  private queueOf(agentId: string): AgentQueue {
    let q = this.queues.get(agentId);
    if (q === undefined) this.queues.set(agentId, (q = new AgentQueue()));
    return q;
  }

  /** Reads the next page of the agent's open deliveries into memory; false when there were none. */
  private loadPage(agentId: string, q: AgentQueue): boolean {
    const b = q.bound;
    if (b === null) return false;
    const page = this.stmt('openPage');
    const rows: OpenRow[] = [];
    // The rest of the bound's priority, then the lower ones, each from its floors.
    for (let rank = Math.min(b.rank, RANKS - 1); rank >= 0 && rows.length < PAGE; rank--) {
      const after = rank === b.rank ? b.seq : 0;
      const [indexed, fanout] = this.floors(agentId, rank);
      rows.push(
        ...(page.all({ recipient: agentId, rank, after_indexed: Math.max(after, indexed - 1), after_fanout: Math.max(after, fanout - 1), max: this.appliedSeq, limit: PAGE - rows.length }) as OpenRow[]),
      );
    }
    for (const r of rows) {
      const e = newEntry(r.seq, r.rank, r.fanout === 1, r.id, r.expires_at);
      e.state = r.state;
      e.deliveredAt = r.delivered_at;
      e.readAt = r.read_at;
      e.attempts = e.storedAttempts = r.attempts;
      e.visibleAt = r.visible_at;
      q.insert(e);
    }
    const last = rows[rows.length - 1];
    q.bound = rows.length < PAGE || last === undefined ? null : { rank: last.rank, seq: last.seq };
    return rows.length > 0;
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
  private floors(agentId: string, rank: number): [indexed: number, fanout: number] {
    const floors = this.floorsOf(agentId);
    // An agent whose open deliveries of this rank are all in memory: no need to read the table.
    const known = this.queues.get(agentId)?.lowest(rank, this.appliedSeq + 1);
    const raise = (i: number, query: string): number => {
      const from = floors[i] as number;
      const lowest = known?.[i % 2] ?? (this.stmt(query).get({ recipient: agentId, rank, floor: from }) as { seq: number } | undefined)?.seq;
      const to = Math.max(from, Math.min(lowest ?? Infinity, this.appliedSeq + 1));
      if (to !== from) this.floorsMoved.add(agentId);
      return (floors[i] = to);
    };
    return [raise(2 * rank, 'firstOpenIndexed'), raise(2 * rank + 1, 'firstOpenFanout')];
  }

  /** The agent's floors, two per rank (`floors`); 0, nothing known yet, for an agent not seen. */
  private floorsOf(agentId: string): number[] {
    let floors = this.floorsByAgent.get(agentId);
    if (floors === undefined) this.floorsByAgent.set(agentId, (floors = new Array<number>(2 * RANKS).fill(0)));
    return floors;
  }

  /** Floors that moved are saved now and then (at each sweep, and at close): migration 0009. */
  private saveFloors(): void {
    if (this.floorsMoved.size === 0) return;
    const save = this.stmt('saveFloor');
    for (const agentId of this.floorsMoved) (this.floorsByAgent.get(agentId) ?? []).forEach((seq, slot) => save.run(agentId, slot, seq));
    this.floorsMoved.clear();
  }

  /** A closed delivery is open again (a dead letter retried): the floors go back to it. */
  private lowerFloors(agentId: string, rank: number, seq: number): void {
    const floors = this.floorsByAgent.get(agentId);
    if (floors === undefined) return;
    for (const i of [2 * rank, 2 * rank + 1]) if ((floors[i] as number) > seq) floors[i] = seq;
  }

  private leasedItem(agentId: string, e: Entry): LeasedItem {
    return {
      message: this.messageBySeq(e.seq),
      delivery: { messageId: e.messageId, recipient: agentId, state: e.state, deliveredAt: e.deliveredAt, readAt: e.readAt, ackedAt: null },
      handout: e.handout,
      attempt: e.attempts,
      leaseUntil: e.until,
    };
  }

  async lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    this.live();
    const until = o.now + o.visibilityMs;
    const out = new Map<string, LeasedItem[]>();
    /** Row writes this hand-out needs (rare): run together once the hand-out is decided. */
    const writes: (() => void)[] = [];
    const touched = new Set<string>();
    try {
      for (const r of reqs) {
        const got: LeasedItem[] = [];
        out.set(r.owner, got);
        if (r.limit <= 0) continue;
        const q = this.queueOf(r.agentId);
        touched.add(r.agentId);
        for (const e of q.returnEnded(o.now)) this.storeAttempts(r.agentId, e, writes);
        for (;;) {
          this.handOut(r, q, o, until, got, writes);
          if (got.length >= r.limit || !this.loadPage(r.agentId, q)) break;
        }
      }
      if (writes.length > 0) this.relaxed(() => writes.forEach((w) => w()));
    } catch (e) {
      // Memory and rows may disagree now: read the agents' queues afresh (a delivery handed out
      // twice is allowed; one forgotten is not).
      for (const id of touched) this.queues.delete(id);
      throw e;
    }
    return out;
  }

  /** Leases ready deliveries of `q` in inbox order until the request's limit. */
  private handOut(r: LeaseRequest, q: AgentQueue, o: LeaseOptions, until: number, got: LeasedItem[], writes: (() => void)[]): void {
    for (let rank = RANKS - 1; rank >= 0 && got.length < r.limit; rank--) {
      const list = q.ready[rank] as Entry[];
      let taken = 0;
      let kept: Entry[] | null = null; // entries left in place (delayed), once one is skipped
      let i = 0;
      for (; i < list.length && got.length < r.limit; i++) {
        const e = list[i] as Entry;
        if (e.visibleAt !== null && e.visibleAt > o.now) {
          (kept ??= []).push(e);
          continue;
        }
        taken += 1;
        if (e.expiresAt !== null && e.expiresAt <= o.now) {
          writes.push(() => addExpired((name) => this.stmt(name), this.stmt('expireOne').all({ recipient: r.agentId, seq: e.seq }) as ExpiredRow[]));
          continue;
        }
        if (e.attempts >= o.maxAttempts) {
          const reason = `not acknowledged after ${e.attempts} deliveries`;
          writes.push(() => this.stmt('deadOne').run({ recipient: r.agentId, seq: e.seq, now: o.now, reason, attempts: e.attempts }));
          continue;
        }
        q.lease(e, until, r.owner, ++this.handout, o.now);
        got.push(this.leasedItem(r.agentId, e));
      }
      if (taken === 0) continue;
      if (kept === null) list.splice(0, i);
      else list.splice(0, i, ...kept);
    }
  }

  /** An ended lease's hand-outs go to the row, so that a restart still counts them. */
  private storeAttempts(agentId: string, e: Entry, writes: (() => void)[]): void {
    if (e.attempts === e.storedAttempts) return;
    const params = { recipient: agentId, seq: e.seq, attempts: e.attempts, delivered: e.deliveredAt };
    e.storedAttempts = e.attempts;
    writes.push(() => this.stmt('recordHandOuts').run(params));
  }

  async adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]> {
    this.live();
    const q = this.queues.get(agentId);
    if (q === undefined) return [];
    const mine = [...q.leases.values()].filter((e) => e.handout > afterHandout && e.until > now).sort((a, b) => a.handout - b.handout);
    for (const e of mine) e.owner = owner;
    return mine.map((e) => this.leasedItem(agentId, e));
  }

  async nack(agentId: string, messageIds: string[], visibleAt: number, _now: number): Promise<string[]> {
    this.live();
    const q = this.queues.get(agentId);
    const rows = this.relaxed(() => {
      const found: InboxRow[] = [];
      for (const id of messageIds) {
        const row = this.stmt('inboxItem').get({ recipient: agentId, id }) as InboxRow | undefined;
        if (row === undefined) throw new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } });
        found.push(row);
      }
      const closed = found.filter((r) => !(OPEN_STATES as readonly string[]).includes(r.d_state));
      if (closed.length > 0) {
        throw new HubError('delivery_closed', `cannot nack ${closed.map((r) => `${r.id} (${r.d_state})`).join(', ')}: only open deliveries can be returned`);
      }
      const nackOne = this.stmt('nackOne');
      for (const row of found) {
        const e = q?.find(row.id, row.priority, row.seq);
        nackOne.run({ recipient: agentId, seq: row.seq, visible_at: visibleAt, attempts: e?.attempts ?? 0 });
      }
      return found;
    });
    for (const row of rows) {
      const e = q?.find(row.id, row.priority, row.seq);
      if (q === undefined || e === undefined) continue;
      e.storedAttempts = e.attempts;
      e.visibleAt = visibleAt;
      if (q.leases.delete(row.id)) q.putBack(e);
    }
    return rows.map((r) => r.id);
  }

  async releaseAllLeases(): Promise<number> {
    this.live();
    let n = 0;
    for (const q of this.queues.values()) n += q.leases.size;
    this.queues.clear();
    return n + this.relaxed(() => this.stmt('releaseAll').run().changes);
  }

  async sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }> {
    this.live();
    const dead: [string, Entry][] = [];
    for (const [agentId, q] of this.queues) for (const e of q.leases.values()) if (e.until <= now && e.attempts >= maxAttempts && (e.expiresAt === null || e.expiresAt > now)) dead.push([agentId, e]);
    const counts = this.relaxed(() => {
      const deadOne = this.stmt('deadOne');
      let n = 0;
      for (const [agentId, e] of dead) n += deadOne.run({ recipient: agentId, seq: e.seq, now, reason: `not acknowledged after ${e.attempts} deliveries`, attempts: e.attempts }).changes;
      this.saveFloors();
      return {
        expired: addExpired((name) => this.stmt(name), this.stmt('sweepExpired').all({ now }) as ExpiredRow[]),
        dead: n + this.stmt('sweepDead').run({ now, max: maxAttempts }).changes,
      };
    });
    for (const [agentId, e] of dead) this.queues.get(agentId)?.leases.delete(e.messageId);
    for (const q of this.queues.values()) {
      for (const e of [...q.leases.values()]) if (e.expiresAt !== null && e.expiresAt <= now) q.leases.delete(e.messageId);
      for (let rank = 0; rank < RANKS; rank++) {
        const list = q.ready[rank] as Entry[];
        if (list.some((e) => e.expiresAt !== null && e.expiresAt <= now)) q.ready[rank] = list.filter((e) => e.expiresAt === null || e.expiresAt > now);
      }
    }
    return counts;
  }

  async nextWake(agentId: string, now: number): Promise<number | null> {
    this.live();
    let next = (this.stmt('nextWake').get({ recipient: agentId, now }) as { t: number | null }).t ?? Infinity;
    const q = this.queues.get(agentId);
    if (q !== undefined) {
      for (const e of q.leases.values()) if (e.until > now && e.until < next) next = e.until;
      for (const list of q.ready) for (const e of list) if (e.visibleAt !== null && e.visibleAt > now && e.visibleAt < next) next = e.visibleAt;
    }
    return next === Infinity ? null : next;
  }

  /**
   * Per agent with deliveries: closed ones from delivery_totals, dead letters from their index, and
   * open ones counted from the agent's floors, so that neither a scrape of /metrics nor `swarm
   * queue stats` reads the whole history (migration 0009).
   */
  async queueStats(now: number): Promise<QueueStat[]> {
    this.live();
    const stats = new Map<string, QueueStat>();
    const statOf = (agent: string): QueueStat => {
      let s = stats.get(agent);
      if (s === undefined) stats.set(agent, (s = { agent, depth: 0, inFlight: 0, delayed: 0, redeliveries: 0, dead: 0, acked: 0, expired: 0 }));
      return s;
    };
    for (const r of this.stmt('queueTotals').all() as { agent: string; acked: number; expired: number; redelivered: number }[]) {
      Object.assign(statOf(r.agent), { acked: r.acked, expired: r.expired, redeliveries: r.redelivered });
    }
    for (const r of this.stmt('queueDead').all() as { agent: string; dead: number; redelivered: number }[]) {
      const s = statOf(r.agent);
      s.dead = r.dead;
      s.redeliveries += r.redelivered;
    }
    const open = this.stmt('queueOpen');
    for (const { id } of this.stmt('agentIds').all() as { id: string }[]) {
      for (let rank = 0; rank < RANKS; rank++) {
        const [indexed, fanout] = this.floors(id, rank);
        const r = open.get({ recipient: id, rank, floor_indexed: indexed, floor_fanout: fanout, now }) as { n: number; depth: number; in_flight: number; delayed: number; redelivered: number };
        if (r.n === 0) continue;
        const s = statOf(id);
        s.depth += r.depth;
        s.inFlight += r.in_flight;
        s.delayed += r.delayed;
        s.redeliveries += r.redelivered;
      }
    }
    const extra = (n: number): number => Math.max(n - 1, 0);
    for (const stat of stats.values()) {
      // The rows do not know the leases held here, nor the hand-outs not stored yet.
      for (const e of this.queues.get(stat.agent)?.leases.values() ?? []) {
        if (e.until > now) {
          stat.depth -= 1;
          stat.inFlight += 1;
        }
        stat.redeliveries += extra(e.attempts) - extra(e.storedAttempts);
      }
    }
    return [...stats.values()].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  }

  async deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]> {
    this.live();
    const rows = this.stmt('deadLetters').all({ recipient: agentId, limit }) as (InboxRow & { d_dead_reason: string; d_dead_at: number })[];
    return rows.map((r) => ({ item: toInboxItem(r), attempts: r.d_attempts, reason: r.d_dead_reason, deadAt: r.d_dead_at }));
  }

  async retryDead(agentId: string | null, messageIds: string[] | null, _now: number): Promise<[string, string][]> {
    this.live();
    const chosen = this.db.transaction(() => {
      const dead = this.stmt('deadOf').all({ recipient: agentId }) as DeadRow[];
      if (messageIds !== null) {
        const missing = messageIds.filter((id) => !dead.some((d) => d.id === id));
        if (missing.length > 0) {
          throw new HubError('message_not_found', `not in the dead letters${agentId === null ? '' : ` of ${agentId}`}: ${missing.join(', ')}`, { details: { messages: missing } });
        }
      }
      const picked = messageIds === null ? dead : dead.filter((d) => messageIds.includes(d.id));
      const retry = this.stmt('retryDeadOne');
      const lower = this.stmt('lowerFloors');
      for (const d of picked) {
        retry.run({ recipient: d.recipient, seq: d.seq });
        lower.run({ recipient: d.recipient, rank: d.rank, seq: d.seq });
      }
      return picked;
    }).immediate();
    // Open again: back into the hand-out queues that cover them.
    for (const d of chosen) {
      this.lowerFloors(d.recipient, d.rank, d.seq);
      const q = this.queues.get(d.recipient);
      if (q === undefined || !q.covers(d.rank, d.seq)) continue;
      const e = newEntry(d.seq, d.rank, d.fanout === 1, d.id, d.expires_at);
      e.deliveredAt = d.delivered_at;
      e.readAt = d.read_at;
      q.insert(e);
      if (q.readyCount() > READY_MAX) q.trim(PAGE);
    }
    return chosen.map((d): [string, string] => [d.recipient, d.id]);
  }

  async thread(threadId: string, viewer: string | null): Promise<Message[]> {
    this.live();
    return (this.stmt('thread').all({ thread_id: threadId, viewer }) as MessageRow[]).map(toMessage);
  }

  async history(q: HistoryQuery): Promise<Message[]> {
    this.live();
    // A search must see every committed message: index what is still pending first.
    if (q.search !== undefined) while (this.indexSearch(INDEX_BATCH) > 0);
    const rows = this.stmt(q.channel === undefined ? 'history' : 'historyChannel').all({
      ...(q.channel === undefined ? {} : { channel: q.channel }),
      viewer: q.viewer,
      agent: q.agent ?? null,
      since: q.since ?? null,
      type: q.type ?? null,
      search: q.search === undefined ? null : ftsQuery(q.search),
      limit: q.limit,
    }) as MessageRow[];
    return rows.map(toMessage);
  }

  // ---- channels -----------------------------------------------------------------------------------

  async createChannel(c: NewChannel): Promise<Channel> {
    this.live();
    const r = this.stmt('insertChannel').run({ name: c.name, description: c.description, auto_join: c.autoJoin ? 1 : 0, created_by: c.createdBy, created_at: c.createdAt });
    if (r.changes === 0) throw new HubError('channel_exists', `channel #${c.name} already exists`, { details: { channel: c.name } });
    return toChannel(this.stmt('getChannel').get(c.name) as ChannelRow);
  }

  async getChannel(name: string): Promise<Channel | null> {
    this.live();
    const row = this.stmt('getChannel').get(name) as ChannelRow | undefined;
    return row === undefined ? null : toChannel(row);
  }

  async listChannels(): Promise<Channel[]> {
    this.live();
    return (this.stmt('listChannels').all() as ChannelRow[]).map(toChannel);
  }

  async joinChannel(name: string, agentId: string, at: number): Promise<boolean> {
    this.live();
    return this.stmt('joinChannel').run(name, agentId, at).changes > 0;
  }

  async leaveChannel(name: string, agentId: string): Promise<boolean> {
    this.live();
    return this.stmt('leaveChannel').run(name, agentId).changes > 0;
  }

  async channelMembers(name: string): Promise<string[]> {
    this.live();
    return (this.stmt('channelMembers').all(name) as { id: string }[]).map((r) => r.id);
  }

  async autoJoin(agentId: string, at: number): Promise<void> {
    this.live();
    this.stmt('autoJoin').run(agentId, at);
  }

  // ---- tasks --------------------------------------------------------------------------------------

  async createTask(t: NewTask): Promise<Task> {
    this.live();
    this.stmt('insertTask').run({
      id: t.id,
      title: t.title,
      description: t.description,
      points: t.points,
      role: t.role,
      capabilities: JSON.stringify(t.capabilities),
      priority: priorityRank(t.priority),
      created_by: t.createdBy,
      created_at: t.createdAt,
    });
    return toTask(this.stmt('getTask').get(t.id) as TaskRow);
  }

  async getTask(id: string): Promise<Task | null> {
    this.live();
    const row = this.stmt('getTask').get(id) as TaskRow | undefined;
    return row === undefined ? null : toTask(row);
  }

  async listTasks(q: TaskQuery): Promise<Task[]> {
    this.live();
    return (this.stmt('listTasks').all({ status: q.status ?? null, assignee: q.assignee ?? null, limit: q.limit }) as TaskRow[]).map(toTask);
  }

  async claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    this.live();
    // One IMMEDIATE transaction: the file's write lock makes the pick and the claim one step.
    return this.db
      .transaction((): Task | null => {
        for (const row of this.stmt('openTasks').all() as TaskRow[]) {
          const task = toTask(row);
          if (!fits(agent, task)) continue;
          const claimed: Task = { ...task, status: 'claimed', assignee: agent.id, claimedAt: at };
          this.stmt('updateTask').run(taskParams(claimed));
          return claimed;
        }
        return null;
      })
      .immediate();
  }

  async updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    this.live();
    return this.db
      .transaction((): Task | null => {
        const row = this.stmt('getTask').get(id) as TaskRow | undefined;
        if (row === undefined) return null;
        const task = toTask(row);
        if (task.status !== expected) return null;
        if (expectedAssignee !== undefined && task.assignee !== expectedAssignee) return null;
        const next: Task = { ...task, ...patch };
        this.stmt('updateTask').run(taskParams(next));
        return next;
      })
      .immediate();
  }

  // ---- reviews ------------------------------------------------------------------------------------

  async requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    this.live();
    return this.db.transaction(() => {
      const round = (this.stmt('maxRound').get(taskId) as { n: number }).n + 1;
      for (const r of reviewers) this.stmt('insertReview').run(taskId, round, r, by, at);
      return round;
    }).immediate();
  }

  async reviewsOf(taskId: string): Promise<Review[]> {
    this.live();
    return (this.stmt('reviewsOf').all(taskId) as ReviewRow[]).map(toReview);
  }

  async decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    this.live();
    this.db.transaction(() => {
      const round = Math.max(1, (this.stmt('maxRound').get(taskId) as { n: number }).n);
      this.stmt('insertReview').run(taskId, round, reviewer, reviewer, at);
      this.stmt('decideReview').run({ task_id: taskId, round, reviewer, verdict, comment, at });
    }).immediate();
  }

  async leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    this.live();
    const rows = this.stmt('leaderboard').all({ since }) as { agent: string; points: number; tasks_verified: number; tasks_done: number; reviews_given: number }[];
    return rows.map((r) => ({ agent: r.agent, points: r.points, tasksVerified: r.tasks_verified, tasksDone: r.tasks_done, reviewsGiven: r.reviews_given }));
  }

  // ---- templates ----------------------------------------------------------------------------------

  async getTemplate(name: string): Promise<Template | null> {
    this.live();
    const row = this.stmt('getTemplate').get(name) as { name: string; body: string; updated_by: string; updated_at: number } | undefined;
    return row === undefined ? null : { name: row.name, body: row.body, updatedBy: row.updated_by, updatedAt: row.updated_at };
  }

  async listTemplates(): Promise<Template[]> {
    this.live();
    const rows = this.stmt('listTemplates').all() as { name: string; body: string; updated_by: string; updated_at: number }[];
    return rows.map((r) => ({ name: r.name, body: r.body, updatedBy: r.updated_by, updatedAt: r.updated_at }));
  }

  async setTemplate(t: Template): Promise<void> {
    this.live();
    this.stmt('setTemplate').run({ name: t.name, body: t.body, updated_by: t.updatedBy, updated_at: t.updatedAt });
  }

  // ---- shared settings ----------------------------------------------------------------------------

  async currentSettings(): Promise<{ version: number; values: Map<string, unknown> }> {
    this.live();
    const rows = this.stmt('currentSettings').all() as { key: string; value: string | null; version: number }[];
    return {
      version: (this.stmt('settingsVersion').get() as { n: number }).n,
      values: new Map(rows.map((r) => [r.key, r.value === null ? null : (JSON.parse(r.value) as unknown)])),
    };
  }

  async settingsAt(version: number): Promise<Map<string, unknown>> {
    this.live();
    const rows = this.stmt('settingsAt').all({ version }) as { key: string; value: string | null }[];
    return new Map(rows.map((r) => [r.key, r.value === null ? null : (JSON.parse(r.value) as unknown)]));
  }

  async recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number): Promise<SettingChange[]> {
    this.live();
    return this.db.transaction(() => {
      const current = new Map((this.stmt('currentSettings').all() as { key: string; value: string | null }[]).map((r) => [r.key, r.value]));
      return changes.map((c): SettingChange => {
        const value = c.value === null ? null : JSON.stringify(c.value);
        const previous = current.get(c.key) ?? null;
        const version = Number(this.stmt('insertSetting').run({ key: c.key, value, previous, author, note, created_at: at }).lastInsertRowid);
        current.set(c.key, value);
        return { version, key: c.key, value: c.value, previous: previous === null ? null : (JSON.parse(previous) as unknown), author, note, createdAt: at };
      });
    }).immediate();
  }

  async settingsHistory(limit: number): Promise<SettingChange[]> {
    this.live();
    const rows = this.stmt('settingsHistory').all({ limit }) as { version: number; key: string; value: string | null; previous: string | null; author: string; note: string; created_at: number }[];
    return rows.map((r) => ({
      version: r.version,
      key: r.key,
      value: r.value === null ? null : (JSON.parse(r.value) as unknown),
      previous: r.previous === null ? null : (JSON.parse(r.previous) as unknown),
      author: r.author,
      note: r.note,
      createdAt: r.created_at,
    }));
  }

  async settingsVersion(): Promise<number> {
    this.live();
    return (this.stmt('settingsVersion').get() as { n: number }).n;
  }

  // ---- re-encryption ----------------------------------------------------------------------------------

  async scanMessages(afterId: string | null, limit: number): Promise<Message[]> {
    this.live();
    return (this.stmt('scanMessages').all({ after: afterId ?? '', limit }) as MessageRow[]).map(toMessage);
  }

  async rewriteMessageContent(id: string, c: Pick<Message, 'subject' | 'body' | 'metadata'>): Promise<void> {
    this.live();
    this.db.transaction(() => {
      const old = this.stmt('getMessage').get(id) as MessageRow | undefined;
      if (old === undefined) throw new HubError('message_not_found', `no message ${id}`);
      this.stmt('rewriteMessage').run({ id, subject: c.subject, body: c.body, metadata: JSON.stringify(c.metadata) });
      const cached = this.recent.get(old.seq);
      if (cached !== undefined) this.forgetRecent(old.seq, cached);
      // The search index holds what it was given; an indexed row is replaced there too.
      if (old.seq <= (this.stmt('indexedSeq').get() as { n: number }).n) {
        this.stmt('ftsDelete').run({ seq: old.seq, subject: old.subject, body: old.body });
        this.stmt('ftsInsert').run({ seq: old.seq, subject: c.subject, body: c.body });
      }
    }).immediate();
  }

  // ---- audit chain ----------------------------------------------------------------------------------

  async appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    this.live();
    // IMMEDIATE: the write lock is taken before the last record is read, so two appenders cannot
    // both chain onto the same record.
    return this.db
      .transaction((): AuditRecord => {
        const last = (this.stmt('auditLast').get() as { seq: number; at: number; hash: string } | undefined) ?? null;
        const rec = chainNext(last, r);
        this.stmt('insertAudit').run({
          seq: rec.seq,
          at: rec.at,
          actor: rec.actor,
          action: rec.action,
          target: rec.target,
          request_id: rec.requestId,
          outcome: rec.outcome,
          detail: canonicalJson(rec.detail),
          prev_hash: rec.prevHash,
          hash: rec.hash,
        });
        return rec;
      })
      .immediate();
  }

  async auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    this.live();
    const rows = this.stmt('auditRecords').all({ since: q.since ?? null, actor: q.actor ?? null, action: q.action ?? null, limit: q.limit }) as AuditRow[];
    return rows.map(toAuditRecord);
  }

  async auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.live();
    return (this.stmt('auditChain').all({ after: afterSeq, limit }) as AuditRow[]).map(toAuditRecord);
  }
}
