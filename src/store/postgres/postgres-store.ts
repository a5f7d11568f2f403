// The scale-out store: PostgreSQL through a pool of `pg` connections, shared by any number of hub
// processes. Nothing is cached in this process (another process may revoke a token or remove an
// agent at any moment); hand-outs are numbered by a sequence and taken with FOR UPDATE SKIP LOCKED,
// so that consumers in different processes never get the same delivery. Sends and acks are
// group-committed like SQLite's: everything submitted in one turn of the event loop goes into one
// transaction on one pooled connection. Tasks are claimed with a conditional update (still open?)
// and settings are written under a table lock, for the same reason: several processes, one board.
// One module per resource does the work (agents.ts, messages.ts, inbox.ts, leases.ts, …), all on
// one Connection (connection.ts); this class opens it, wires them and answers the Store contract.
import type { Agent, Presence } from '../../domain/agent.js';
import type { AuditRecord, NewAuditRecord } from '../../domain/audit.js';
import type { Channel } from '../../domain/channel.js';
import type { InboxItem, Message } from '../../domain/message.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../../domain/task.js';
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
  Store,
  StoreEvent,
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
import { Connection, storeError } from './connection.js';
import { DeadLetters } from './dead-letters.js';
import { PgEvents } from './events.js';
import { type AckItem, Inbox } from './inbox.js';
import { Leadership } from './leader.js';
import { Leases } from './leases.js';
import { Messages } from './messages.js';
import { QueueStats } from './queue-stats.js';
import { RateBuckets } from './rate-buckets.js';
import { Sealing } from './sealing.js';
import { Settings } from './settings.js';
import { Tasks } from './tasks.js';
import { Retention } from './retention.js';
import { Targets } from './targets.js';
import type { BreakerState } from '../../domain/target.js';
import { Templates } from './templates.js';
import { Tokens } from './tokens.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Tables live in this schema (created when missing); default: the connection's own search_path. */
  schema?: string | undefined;
  /** Most connections this process opens. */
  poolSize?: number | undefined;
  batchMax?: number | undefined;
  /** Most sends, and most acks, waiting for a commit; beyond, refused with `overloaded` (default: unbounded). */
  queueMax?: number | undefined;
  /**
   * Named prepared statements, parsed once per connection (default). Off behind PgBouncer in
   * transaction mode (1.18 keeps no prepared statements across transactions): every statement is
   * then parsed and planned where it runs.
   */
  prepare?: boolean | undefined;
  /**
   * Where the session features go (the LISTEN connection): straight to PostgreSQL when `url` is a
   * transaction-mode pooler, which cannot keep a LISTEN. Default: `url`.
   */
  sessionUrl?: string | undefined;
  /**
   * Only open a schema a hub already made (its migration ledger exists); otherwise refused with
   * `config_invalid` and nothing created: for commands that administer an existing hub, where a
   * mistyped URL or schema must not make a new one.
   */
  existing?: boolean | undefined;
  /** Told once, within seconds of opening, if the LISTEN connection cannot open or does not hear the pool's notifications (events.ts checkListen). */
  onWarning?: ((message: string) => void) | undefined;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** Any number of hub processes share the database; events go over LISTEN/NOTIFY. */
  readonly shared = true;
  private readonly conn: Connection;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private readonly acks: GroupCommit<AckItem, AckResult>;
  private readonly events: PgEvents;
  private readonly sweeper: Leadership;
  private unlisten: (() => void) | null = null;
  private readonly agents: Agents;

  /** This process's pool: connections open and idle, callers waiting, the most it opens (metrics). */
  poolStats(): { total: number; idle: number; waiting: number; max: number } {
    const p = this.conn.pool;
    return { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount, max: p.options.max ?? 10 };
  }
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
  private readonly buckets: RateBuckets;
  private readonly sealing: Sealing;

  private constructor(conn: Connection, batchMax: number, url: string, schema: string | null, queueMax?: number) {
    this.conn = conn;
    this.events = new PgEvents(url, `swarm_events${schema === null ? '' : `_${schema}`}`.slice(0, 63), async (channel, payloads) => {
      await conn.pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [channel, payloads]);
    });
    this.sweeper = new Leadership(url, `swarm.sweeper:${conn.tables}`);
    this.audit = new Audit(conn);
    this.tokens = new Tokens(conn, this.audit);
    this.agents = new Agents(conn, this.tokens, this.audit);
    this.messages = new Messages(conn);
    this.sealing = new Sealing(conn);
    this.inboxes = new Inbox(conn);
    this.leases = new Leases(conn);
    this.dead = new DeadLetters(conn);
    this.stats = new QueueStats(conn);
    this.channels = new Channels(conn);
    this.tasks = new Tasks(conn);
    this.templates = new Templates(conn);
    this.targets = new Targets(conn);
    this.retention = new Retention(conn);
    this.settings = new Settings(conn, this.audit);
    this.buckets = new RateBuckets(conn);
    const bound = { maxQueue: queueMax, queueName: 'store.queueMax' };
    this.appends = new GroupCommit({ maxBatch: batchMax, ...bound, commit: (items) => this.messages.commitAppends(items) });
    this.acks = new GroupCommit({ maxBatch: batchMax, ...bound, commit: (items) => conn.tx((c) => this.inboxes.commitAcks(c, items)) });
  }

  /** Connects, migrates the schema (refusing a newer one with `schema_too_new`), and returns the store. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? null;
    const conn = await Connection.open({ url: opts.url, schema, poolSize: opts.poolSize ?? 10, prepare: opts.prepare ?? true, existing: opts.existing });
    const store = new PostgresStore(conn, opts.batchMax ?? 512, opts.sessionUrl ?? opts.url, schema, opts.queueMax);
    await store.startDirectory();
    if (opts.onWarning !== undefined) void store.events.checkListen().then((problem) => problem !== null && opts.onWarning?.(problem));
    return store;
  }

  /** Tells the directory triggers where to notify, listens, and starts the cache's version polls. */
  private async startDirectory(): Promise<void> {
    try {
      await this.conn.q('setEventChannel', [this.events.channel]);
    } catch (e) {
      await this.conn.pool.end().catch(() => undefined);
      if (e instanceof HubError && e.code === 'config_invalid') throw e;
      throw new HubError('store_unavailable', `cannot prepare the directory: ${(e as Error).message}`, { cause: e });
    }
    this.unlisten = this.events.onEvent((e) => {
      if (e.type === 'directory' || e.type === 'resync') this.conn.directory.clear();
    });
    await this.conn.directory.start();
  }

  async publish(e: StoreEvent): Promise<void> {
    if (this.conn.closed) return;
    try {
      await this.events.publish(e);
    } catch (err) {
      throw storeError(err);
    }
  }

  onEvent(handler: (e: StoreEvent) => void): () => void {
    return this.events.onEvent(handler);
  }

  lead(_work: 'sweeper'): Promise<boolean> {
    return this.conn.closed ? Promise.resolve(false) : this.sweeper.lead();
  }

  ping(): Promise<void> {
    return this.conn.ping();
  }

  schema(): Promise<SchemaInfo> {
    return this.conn.schema();
  }

  async close(): Promise<void> {
    if (this.conn.closed) return;
    await Promise.all([this.appends.drain(), this.acks.drain()]);
    this.conn.closed = true;
    this.unlisten?.();
    this.conn.directory.stop();
    await this.sweeper.close();
    await this.events.close();
    await this.conn.pool.end();
  }

  // ---- agents (agents.ts) ---------------------------------------------------------------------------

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

  // ---- tokens (tokens.ts) ---------------------------------------------------------------------------

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

  // ---- messages (messages.ts) and deliveries (inbox.ts) ---------------------------------------------

  async appendMessage(req: AppendRequest): Promise<AppendResult> {
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

  async ack(agentId: string, messageIds: string[], at: number, opts: AckOptions = {}): Promise<AckResult> {
    this.conn.live();
    return this.acks.submit({ agentId, messageIds, at, strict: opts.strict === true });
  }

  // ---- leases (leases.ts), dead letters (dead-letters.ts), queue stats (queue-stats.ts) -------------

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

  // ---- channels (channels.ts) -----------------------------------------------------------------------

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

  // ---- tasks and reviews (tasks.ts) -----------------------------------------------------------------

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

  // ---- templates (templates.ts) and shared settings (settings.ts) -----------------------------------

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

  // ---- shared rate limits (rate-buckets.ts) ---------------------------------------------------------

  takeTokens(key: string, rate: number, burst: number, want: number, now: number): Promise<{ granted: number; remaining: number }> {
    return this.buckets.takeTokens(key, rate, burst, want, now);
  }
}
