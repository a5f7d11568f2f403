// The embedded default store: one SQLite file in WAL mode (better-sqlite3 12.x, synchronous API).
// Sends go through a GroupCommit so that concurrent sends share one transaction and one fsync.
// One module per resource does the work (agents.ts, messages.ts, inbox.ts, leases.ts, …), all on
// one Connection (connection.ts); this class wires them and answers the Store contract, with
// storage failures typed (storage-errors.ts) whichever connection met them.
import type { Agent, Presence } from '../../domain/agent.js';
import type { AuditRecord, NewAuditRecord } from '../../domain/audit.js';
import type { Channel } from '../../domain/channel.js';
import type { InboxItem, Message } from '../../domain/message.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../../domain/task.js';
import { Worker } from 'node:worker_threads';
import { HubError } from '../../errors.js';
import { GroupCommit } from '../group-commit.js';
import type { KeyRotation, SealedContent, StoredMessage } from '../sealing.js';
import type {
  AckOptions,
  AckResult,
  AppendRequest,
  AppendResult,
  AuditOf,
  AuditQuery,
  BootstrapOutcome,
  BootstrapToken,
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
  AuditCheckpoint,
  RetentionCandidate,
  NewTarget,
  TargetBacklog,
  TargetLease,
  TargetOutcome,
  TargetRecord,
  TokenInfo,
  TokenMatch,
  TokenRecord,
} from '../store.js';
import { Agents } from './agents.js';
import { Audit } from './audit.js';
import { Channels } from './channels.js';
import { timed } from './commits.js';
import { Connection } from './connection.js';
import { DeadLetters } from './dead-letters.js';
import { Floors } from './floors.js';
import { type AckItem, Inbox } from './inbox.js';
import { Leases } from './leases.js';
import { Messages } from './messages.js';
import { QueueStats } from './queue-stats.js';
import { RecentMessages } from './recent-messages.js';
import { Sealing } from './sealing.js';
import { Settings } from './settings.js';
import { typeFailures } from './storage-errors.js';
import { Tasks } from './tasks.js';
import { Retention } from './retention.js';
import { Targets } from './targets.js';
import type { BreakerState } from '../../domain/target.js';
import { Templates } from './templates.js';
import { Tokens } from './tokens.js';

export { DB_FILE } from './connection.js';

export interface SqliteStoreOptions {
  /** Directory holding `swarm.db`; or `:memory:` for a throwaway store. */
  dir: string;
  synchronous: 'full' | 'normal';
  batchMax?: number;
  /** Most sends, and most acks, waiting for a commit; beyond, refused with `overloaded` (default: unbounded). */
  queueMax?: number | undefined;
  /** Told of every group commit: what, how many items, how long (metrics). */
  onCommit?: (kind: 'send' | 'ack', size: number, seconds: number) => void;
  /** The `-wal` file is kept under this many MiB (store.walLimitMiB, wal-limit.ts); default 256. */
  walLimitMiB?: number;
  /** Told of what an operator should know and nobody asked about (the writer thread dying). */
  onWarning?: (message: string) => void;
  /**
   * Fewest recipients that make a message a fan-out message (`isFanOut`; default 16). The
   * conformance suite also runs with 1, so that most of its messages take that path.
   */
  fanOutMin?: number;
}

export class SqliteStore implements Store {
  // Every method answers SQLITE_BUSY, _FULL and _IOERR as typed errors (503 store_busy, 507
  // storage_full, 503 storage_io_error), not as a 500, whether the hub's connection met them or
  // the writer thread did: wrapped once here rather than in each of the methods below.
  static {
    typeFailures(SqliteStore.prototype, (store, e) => store.conn.failed(e));
  }

  readonly kind = 'sqlite';
  /** One process owns the file: there is nobody to tell. */
  readonly shared = false;

  async publish(_e: StoreEvent): Promise<void> {}

  onEvent(_handler: (e: StoreEvent) => void): () => void {
    return () => undefined;
  }

  private readonly conn: Connection;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private readonly acks: GroupCommit<AckItem, AckResult>;
  private readonly floors: Floors;
  private readonly agents: Agents;
  private readonly tokens: Tokens;
  private readonly messages: Messages;
  private readonly inboxes: Inbox;
  private readonly leases: Leases;
  private readonly dead: DeadLetters;
  private readonly stats: QueueStats;
  private readonly channels: Channels;
  private readonly tasks: Tasks;
  private readonly templates: Templates;
  private readonly targets: Targets;
  private readonly retention: Retention;
  private readonly settings: Settings;
  private readonly audit: Audit;
  private readonly sealing: Sealing;

  constructor(opts: SqliteStoreOptions) {
    const conn = (this.conn = new Connection(opts.dir, opts.synchronous, (opts.walLimitMiB ?? 256) * 1024 * 1024, opts.batchMax ?? 512));
    this.floors = new Floors(conn);
    const recent = new RecentMessages(conn);
    this.audit = new Audit(conn);
    this.tokens = new Tokens(conn, this.audit);
    this.agents = new Agents(conn, this.tokens, this.floors, this.audit);
    this.messages = new Messages(conn, this.agents, recent, opts.fanOutMin);
    this.sealing = new Sealing(conn, recent);
    this.inboxes = new Inbox(conn, this.floors);
    this.leases = new Leases(conn, this.floors, recent);
    this.dead = new DeadLetters(conn, this.floors);
    this.stats = new QueueStats(conn, this.floors);
    this.channels = new Channels(conn);
    this.tasks = new Tasks(conn);
    this.templates = new Templates(conn);
    this.targets = new Targets(conn);
    this.retention = new Retention(conn);
    this.settings = new Settings(conn, this.audit);
    const bound = { maxQueue: opts.queueMax, queueName: 'store.queueMax' };
    this.appends = new GroupCommit({ maxBatch: opts.batchMax ?? 512, ...bound, commit: timed('send', opts.onCommit, (items: AppendRequest[]) => this.messages.commitAppends(items)) });
    this.acks = new GroupCommit({ maxBatch: opts.batchMax ?? 512, ...bound, commit: timed('ack', opts.onCommit, (items: AckItem[]) => this.inboxes.commitAcks(items)) });
    conn.start(opts.onWarning);
  }

  /** One process owns the data directory: it leads everything. */
  lead(): Promise<boolean> {
    return Promise.resolve(!this.conn.closed);
  }

  ping(): Promise<void> {
    return this.conn.ping();
  }

  /** The size of the `-wal` file now, in bytes (the swarm_store_wal_bytes gauge). */
  /** Whether sends and acks are still committed on the writer thread (false once it died). */
  writerAlive(): boolean {
    return this.conn.writer !== null;
  }

  walBytes(): number {
    return this.conn.walBytes();
  }

  async schema(): Promise<SchemaInfo> {
    return this.conn.schemaInfo;
  }

  /**
   * A consistent snapshot of the database into `file`, committed WAL content included: `VACUUM
   * INTO` on a connection of its own in a worker thread (snapshot-worker.ts), so that the hub's
   * event loop and the writer thread go on while a large store is copied. (The online backup API
   * on this connection blocked the event loop for the whole copy: copied in steps, it starts over
   * whenever the writer commits in between.)
   */
  async backup(file: string): Promise<void> {
    this.conn.live();
    if (this.conn.file === ':memory:') throw new HubError('validation_failed', 'a store in memory has no file to back up');
    const worker = new Worker(new URL('./snapshot-worker.js', import.meta.url), { workerData: { source: this.conn.file, target: file } });
    const r = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (e) => resolve({ ok: false, error: e.message }));
      worker.once('exit', (code) => resolve({ ok: false, error: `the snapshot thread exited (${code})` }));
    });
    if (!r.ok) throw new HubError('store_unavailable', `cannot copy the database: ${r.error}`);
  }

  async close(): Promise<void> {
    if (this.conn.closed) return;
    await Promise.all([this.appends.drain(), this.acks.drain(), this.conn.drainWrites()]);
    await this.conn.stopThreads();
    try {
      this.conn.relaxed(() => this.floors.save());
    } catch {
      // Floors are a shortcut: one not saved is only found again by reading further next time.
    }
    this.conn.close();
  }

  // ---- agents (agents.ts) ---------------------------------------------------------------------

  createAgent(a: NewAgent, o?: { token?: TokenRecord; audit?: AuditOf<Agent> }): Promise<Agent> {
    return this.agents.createAgent(a, o);
  }

  getAgent(id: string): Promise<Agent | null> {
    return this.agents.getAgent(id);
  }

  listAgents(): Promise<Agent[]> {
    return this.agents.listAgents();
  }

  removeAgent(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<boolean> {
    return this.agents.removeAgent(id, at, audit);
  }

  setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null> {
    return this.agents.setStatus(id, status, mission, at);
  }

  recordSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    return this.agents.recordSeen(seen);
  }

  // ---- tokens (tokens.ts) ---------------------------------------------------------------------

  createToken(t: TokenRecord, audit?: AuditOf<{ agentId: string }>): Promise<void> {
    return this.tokens.createToken(t, audit);
  }

  findToken(hash: Buffer): Promise<TokenMatch | null> {
    return this.tokens.findToken(hash);
  }

  hasLiveToken(agentId: string): Promise<boolean> {
    return this.tokens.hasLiveToken(agentId);
  }

  getToken(id: string): Promise<TokenInfo | null> {
    return this.tokens.getToken(id);
  }

  listTokens(agentId: string | null): Promise<TokenInfo[]> {
    return this.tokens.listTokens(agentId);
  }

  revokeToken(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    return this.tokens.revokeToken(id, at, audit);
  }

  rotateToken(id: string, next: TokenRecord, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    return this.tokens.rotateToken(id, next, at, audit);
  }

  bootstrapToken(b: BootstrapToken, audit?: AuditOf<BootstrapOutcome>): Promise<BootstrapOutcome> {
    return this.agents.bootstrapToken(b, audit);
  }

  touchToken(id: string, at: number): Promise<void> {
    return this.tokens.touchToken(id, at);
  }

  // ---- messages (messages.ts) and deliveries (inbox.ts) -----------------------------------------

  appendMessage(req: AppendRequest): Promise<AppendResult> {
    this.conn.live();
    return this.appends.submit(req);
  }

  getMessage(id: string): Promise<Message | null> {
    return this.messages.getMessage(id);
  }

  recipientsOf(messageId: string): Promise<string[]> {
    return this.messages.recipientsOf(messageId);
  }

  thread(threadId: string, viewer: string | null): Promise<Message[]> {
    return this.messages.thread(threadId, viewer);
  }

  history(q: HistoryQuery): Promise<Message[]> {
    return this.messages.history(q);
  }

  // ---- encryption at rest (sealing.ts) --------------------------------------------------------

  scanMessages(afterId: string | null, limit: number): Promise<StoredMessage[]> {
    return this.sealing.scanMessages(afterId, limit);
  }

  sealingSample(limit: number): Promise<{ keys: string[]; legacy: StoredMessage[] }> {
    return this.sealing.sealingSample(limit);
  }

  keyRotation(): Promise<KeyRotation | null> {
    return this.sealing.keyRotation();
  }

  beginKeyRotation(r: Omit<KeyRotation, 'total'>, replacing: string | null): Promise<KeyRotation> {
    return this.sealing.beginKeyRotation(r, replacing);
  }

  saveKeyRotation(r: KeyRotation, owner: string, contents: SealedContent[]): Promise<boolean> {
    return this.sealing.saveKeyRotation(r, owner, contents);
  }

  inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    return this.inboxes.inbox(agentId, q);
  }

  inboxItem(agentId: string, messageId: string): Promise<InboxItem | null> {
    return this.inboxes.inboxItem(agentId, messageId);
  }

  markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null> {
    return this.inboxes.markRead(agentId, messageId, at);
  }

  ack(agentId: string, messageIds: string[], at: number, opts: AckOptions = {}): Promise<AckResult> {
    this.conn.live();
    return this.acks.submit({ agentId, messageIds, at, strict: opts.strict === true });
  }

  // ---- leases (leases.ts), dead letters (dead-letters.ts), queue stats (queue-stats.ts) ----------

  lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    return this.leases.lease(reqs, o);
  }

  adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]> {
    return this.leases.adoptLeases(agentId, owner, afterHandout, now);
  }

  nack(agentId: string, messageIds: string[], visibleAt: number, now: number): Promise<string[]> {
    return this.leases.nack(agentId, messageIds, visibleAt, now);
  }

  releaseAllLeases(): Promise<number> {
    return this.leases.releaseAllLeases();
  }

  sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }> {
    return this.leases.sweep(now, maxAttempts);
  }

  nextWake(agentId: string, now: number): Promise<number | null> {
    return this.leases.nextWake(agentId, now);
  }

  queueStats(now: number): Promise<QueueStat[]> {
    return this.stats.queueStats(now);
  }

  deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]> {
    return this.dead.deadLetters(agentId, limit);
  }

  retryDead(agentId: string | null, messageIds: string[] | null, now: number): Promise<[string, string][]> {
    return this.dead.retryDead(agentId, messageIds, now);
  }

  // ---- channels (channels.ts) -------------------------------------------------------------------

  createChannel(c: NewChannel): Promise<Channel> {
    return this.channels.createChannel(c);
  }

  getChannel(name: string): Promise<Channel | null> {
    return this.channels.getChannel(name);
  }

  listChannels(): Promise<Channel[]> {
    return this.channels.listChannels();
  }

  joinChannel(name: string, agentId: string, at: number): Promise<boolean> {
    return this.channels.joinChannel(name, agentId, at);
  }

  leaveChannel(name: string, agentId: string): Promise<boolean> {
    return this.channels.leaveChannel(name, agentId);
  }

  channelMembers(name: string): Promise<string[]> {
    return this.channels.channelMembers(name);
  }

  autoJoin(agentId: string, at: number): Promise<void> {
    return this.channels.autoJoin(agentId, at);
  }

  // ---- tasks and reviews (tasks.ts) ---------------------------------------------------------------

  createTask(t: NewTask): Promise<Task> {
    return this.tasks.createTask(t);
  }

  getTask(id: string): Promise<Task | null> {
    return this.tasks.getTask(id);
  }

  listTasks(q: TaskQuery): Promise<Task[]> {
    return this.tasks.listTasks(q);
  }

  claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    return this.tasks.claimNext(agent, at);
  }

  silentClaims(silentSince: number, limit: number): Promise<Task[]> {
    return this.tasks.silentClaims(silentSince, limit);
  }

  updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    return this.tasks.updateTask(id, expected, expectedAssignee, patch);
  }

  requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    return this.tasks.requestReview(taskId, reviewers, by, at);
  }

  reviewsOf(taskId: string): Promise<Review[]> {
    return this.tasks.reviewsOf(taskId);
  }

  decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    return this.tasks.decideReview(taskId, reviewer, verdict, comment, at);
  }

  leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    return this.tasks.leaderboard(since);
  }

  // ---- delivery targets (targets.ts) -------------------------------------------------------------

  createTarget(t: NewTarget): Promise<TargetRecord> {
    return this.targets.createTarget(t);
  }
  getTarget(id: string): Promise<TargetRecord | null> {
    return this.targets.getTarget(id);
  }
  listTargets(agentId: string | null): Promise<TargetRecord[]> {
    return this.targets.listTargets(agentId);
  }
  removeTarget(id: string): Promise<boolean> {
    return this.targets.removeTarget(id);
  }
  leaseTargetDeliveries(targetId: string, owner: string, limit: number, now: number, visibilityMs: number, maxAttempts: number): Promise<TargetLease[]> {
    return this.targets.leaseTargetDeliveries(targetId, owner, limit, now, visibilityMs, maxAttempts);
  }
  settleTargetDelivery(targetId: string, messageId: string, owner: string, o: TargetOutcome): Promise<boolean> {
    return this.targets.settleTargetDelivery(targetId, messageId, owner, o);
  }
  targetBacklog(targetIds: string[]): Promise<Map<string, TargetBacklog>> {
    return this.targets.targetBacklog(targetIds);
  }
  retryTargetDead(targetId: string, now: number): Promise<number> {
    return this.targets.retryTargetDead(targetId, now);
  }
  noteTargetBreaker(targetId: string, b: BreakerState): Promise<void> {
    return this.targets.noteTargetBreaker(targetId, b);
  }
  storeTargetSecret(targetId: string, secret: string, sealedUnder: string | null): Promise<void> {
    return this.targets.storeTargetSecret(targetId, secret, sealedUnder);
  }

  // ---- retention (retention.ts) ------------------------------------------------------------------

  retentionCandidates(afterSeq: number, window: number, before: number): Promise<RetentionCandidate[]> {
    return this.retention.retentionCandidates(afterSeq, window, before);
  }
  nextMessageAfter(afterSeq: number): Promise<{ seq: number; createdAt: number } | null> {
    return this.retention.nextMessageAfter(afterSeq);
  }
  deleteMessages(seqs: number[]): Promise<number> {
    return this.retention.deleteMessages(seqs);
  }

  // ---- templates (templates.ts) and shared settings (settings.ts) -------------------------------

  getTemplate(name: string): Promise<Template | null> {
    return this.templates.getTemplate(name);
  }

  listTemplates(): Promise<Template[]> {
    return this.templates.listTemplates();
  }

  setTemplate(t: Template): Promise<void> {
    return this.templates.setTemplate(t);
  }

  currentSettings(): Promise<{ version: number; values: Map<string, unknown> }> {
    return this.settings.currentSettings();
  }

  settingsAt(version: number): Promise<Map<string, unknown>> {
    return this.settings.settingsAt(version);
  }

  recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number, audit?: AuditOf<SettingChange[]>): Promise<SettingChange[]> {
    return this.settings.recordSettings(changes, author, note, at, audit);
  }

  settingsHistory(limit: number): Promise<SettingChange[]> {
    return this.settings.settingsHistory(limit);
  }

  settingsVersion(): Promise<number> {
    return this.settings.settingsVersion();
  }

  // ---- audit chain (audit.ts) -----------------------------------------------------------------------

  appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    return this.audit.appendAudit(r);
  }

  auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    return this.audit.auditRecords(q);
  }

  auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.audit.auditChain(afterSeq, limit);
  }
  trimAudit(before: number, limit: number, now: number): Promise<number> {
    return this.audit.trimAudit(before, limit, now);
  }
  auditCheckpoint(): Promise<AuditCheckpoint | null> {
    return this.audit.auditCheckpoint();
  }
}
