// The Store contract: everything the hub keeps, and nothing about how. Adapters (SQLite now,
// PostgreSQL later) implement it; nothing above this layer imports a database driver. Every method
// is async so that a networked adapter fits the same shape. The conformance suite in
// test/conformance/ is the executable form of this contract: an adapter is correct when it passes.
import type { Agent, Presence } from '../domain/agent.js';
import type { AuditRecord, NewAuditRecord } from '../domain/audit.js';
import type { Channel } from '../domain/channel.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../domain/task.js';
import type { InboxItem, Message } from '../domain/message.js';
import type { KeyRotation, SealedContent, StoredMessage } from './sealing.js';

export * from './store-records.js';
import type { BreakerState } from '../domain/target.js';
import type { NewAgent, TokenRecord, TokenInfo, AuditOf, BootstrapToken, BootstrapOutcome, TokenMatch, AppendRequest, AppendResult, InboxQuery, AckOptions, LeaseRequest, LeaseOptions, LeasedItem, QueueStat, DeadLetter, AckResult, HistoryQuery, NewChannel, NewTask, TaskPatch, TaskQuery, SettingChange, Template, AuditQuery, SchemaInfo, StoreEvent, NewTarget, TargetRecord, TargetLease, TargetOutcome, TargetBacklog, RetentionCandidate, AuditCheckpoint } from './store-records.js';

export interface Store {
  /** 'sqlite' | 'postgres': for logs and /readyz only; callers never branch on it. */
  readonly kind: string;
  /**
   * Whether several hub processes may share this store. The embedded store is one process's
   * alone; a shared one needs events between processes, and work that must happen once (sweeps)
   * safe under concurrency.
   */
  readonly shared: boolean;

  /** Tells the other processes sharing the store; nothing to do for a store no one else uses. */
  publish(e: StoreEvent): Promise<void>;
  /** Events published by other processes (and `resync`). Returns the unsubscribe. */
  onEvent(handler: (e: StoreEvent) => void): () => void;

  /**
   * True while this process leads `work` among every process sharing the store, so that work that
   * must happen once (the sweeps) runs in one place; another process takes over when the leader
   * dies. A store one process owns always leads.
   */
  lead(work: 'sweeper'): Promise<boolean>;
  /**
   * Shared stores only: takes up to `want` tokens from the hub-wide bucket `key` (refilled at `rate`
   * per second up to `burst`), for limits that hold across every process. Returns how many were
   * granted and what is left in the bucket. A store one process owns has no such method: that
   * process's own buckets are the hub's.
   */
  takeTokens?(key: string, rate: number, burst: number, want: number, now: number): Promise<{ granted: number; remaining: number }>;
  /** Cheap round trip to the database, for /readyz. Throws when it is unreachable. */
  ping(): Promise<void>;
  schema(): Promise<SchemaInfo>;
  /**
   * Embedded store only: a consistent copy of the whole database into `file`, taken while the hub
   * serves (`swarm backup create`). A shared store is backed up with its own tools (pg_dump).
   */
  backup?(file: string): Promise<void>;
  /** Finishes pending group commits, then closes. Further calls fail. */
  close(): Promise<void>;

  // ---- agents -------------------------------------------------------------------------------
  /**
   * Registers an agent; re-registering a removed id revives it. Throws `agent_exists` if active.
   * With `token`, also stores its first token; with `audit`, the records of the registration: all
   * in one transaction.
   */
  createAgent(agent: NewAgent, o?: { token?: TokenRecord; audit?: AuditOf<Agent> }): Promise<Agent>;
  /** An active (not removed) agent, or null. */
  getAgent(id: string): Promise<Agent | null>;
  /** Active agents, ordered by id. */
  listAgents(): Promise<Agent[]>;
  /**
   * Marks the agent removed and revokes its tokens; its messages stay in history. False if unknown
   * (and nothing is audited). `audit`: written in the same transaction.
   */
  removeAgent(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<boolean>;
  /** Sets status and mission (and counts as being seen). Null if the agent is unknown. */
  setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null>;
  /** Records last-seen times, batched by the caller; unknown ids are ignored. */
  recordSeen(seen: ReadonlyMap<string, number>): Promise<void>;

  // ---- tokens -------------------------------------------------------------------------------
  /** Stores a token (by hash); `audit`: written in the same transaction. */
  createToken(token: TokenRecord, audit?: AuditOf<{ agentId: string }>): Promise<void>;
  /**
   * The agent a token belongs to, with its expiry and scopes, when it is not revoked and its agent
   * not removed; null otherwise. Expired tokens are returned (the caller refuses them, saying so).
   */
  findToken(hash: Buffer): Promise<TokenMatch | null>;
  /** One token by id, revoked or not; null if unknown. */
  getToken(id: string): Promise<TokenInfo | null>;
  /** Tokens not revoked of active agents (of one agent, or all), oldest first; never hashes. */
  listTokens(agentId: string | null): Promise<TokenInfo[]>;
  /**
   * Revokes a live token; returns its agent, or null when unknown or already revoked (then nothing
   * is audited). `audit`: written in the same transaction.
   */
  revokeToken(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null>;
  /**
   * Revokes the live token `id` and stores `next` in its place, in one transaction: of two
   * rotations of one token, however concurrent (also from several processes), one succeeds and the
   * other returns null, storing nothing, as it does when `id` is unknown or already revoked.
   */
  rotateToken(id: string, next: TokenRecord, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null>;
  /**
   * Mints the hub's own credential once (BootstrapToken says when). In one transaction, serialised
   * with every other process sharing the store (SQLite: the write lock; PostgreSQL: a lock on the
   * tokens table), so that processes starting at once on an empty store mint exactly one: registers
   * the agent when it is not active, then stores the token unless the agent holds a live token that
   * it does not replace (unless `force`), revoking those it replaces.
   */
  bootstrapToken(b: BootstrapToken, audit?: AuditOf<BootstrapOutcome>): Promise<BootstrapOutcome>;
  /** Records when a token was last used (callers batch: at most once a minute per token). */
  touchToken(id: string, at: number): Promise<void>;
  /** Whether an active agent holds any live token. */
  hasLiveToken(agentId: string): Promise<boolean>;

  // ---- messages -----------------------------------------------------------------------------
  /**
   * Stores a message and one `pending` delivery per recipient, atomically. Concurrent calls are
   * group-committed: they share one transaction, and each promise resolves only after the
   * transaction holding it has committed (so a resolved append survives a crash of the process).
   * With an idempotency key already used by the same sender, stores nothing and returns the
   * earlier message as `duplicate`.
   * The append joins the commit queue during the call itself (before the returned promise is first
   * awaited): appends called one after another commit in that order, which lets a face pipeline
   * one client's sends (`SendOrder` in hub/messages.ts) and keep their order.
   */
  appendMessage(req: AppendRequest): Promise<AppendResult>;
  getMessage(id: string): Promise<Message | null>;
  /** Agent ids holding a delivery of the message. */
  recipientsOf(messageId: string): Promise<string[]>;
  /**
   * One agent's deliveries in the given states, urgent first, then oldest first. Listed `pending`
   * deliveries become `delivered`.
   */
  inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]>;
  /** One delivery of one message to one agent, or null. */
  inboxItem(agentId: string, messageId: string): Promise<InboxItem | null>;
  /** Marks a delivery read (if not already read or acked); null if the agent has no such delivery. */
  markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null>;
  /**
   * Acknowledges deliveries, all or nothing: if any id is not a delivery of this agent, throws
   * `message_not_found` naming it and changes nothing. Like `appendMessage`, joins the commit
   * queue during the call.
   */
  ack(agentId: string, messageIds: string[], at: number, opts?: AckOptions): Promise<AckResult>;

  // ---- leases (at-least-once hand-out to consumers) -------------------------------------------
  /**
   * Hands out deliveries to consumers, in one transaction for all requests (each request sees the
   * leases of the ones before it). Per agent: open, not leased, not delayed, not expired
   * deliveries, urgent first, then oldest. A delivery already handed out `maxAttempts` times goes
   * to the dead letters instead; one whose message expired is marked expired. Keyed by owner.
   */
  lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>>;
  /**
   * Resuming consumer: deliveries of the agent still leased (to any owner) with a hand-out number
   * above `afterHandout` move to `owner` and are returned to be sent again (lost in flight). Those
   * at or below it stay leased: the consumer has them.
   */
  adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]>;
  /** Ends the leases and delays the deliveries until `visibleAt`; all or nothing like ack. */
  nack(agentId: string, messageIds: string[], visibleAt: number, now: number): Promise<string[]>;
  /** Ends every lease (the embedded hub at start: no consumer outlives the process). */
  releaseAllLeases(): Promise<number>;
  /** Housekeeping: marks deliveries of expired messages expired, dead-letters exhausted leases. */
  sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }>;
  /** The next time a lease of the agent ends or a delayed delivery becomes visible, or null. */
  nextWake(agentId: string, now: number): Promise<number | null>;
  queueStats(now: number): Promise<QueueStat[]>;
  /** Dead letters, oldest first; of one agent, or all (null). */
  deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]>;
  /** Back to pending with attempts reset; of one agent (optionally only some ids), or all. Returns [agent, message id] pairs. */
  retryDead(agentId: string | null, messageIds: string[] | null, now: number): Promise<[string, string][]>;

  // ---- channels -------------------------------------------------------------------------------
  /** Throws `channel_exists` when the name is taken. */
  createChannel(c: NewChannel): Promise<Channel>;
  getChannel(name: string): Promise<Channel | null>;
  /** Ordered by name, with member counts. */
  listChannels(): Promise<Channel[]>;
  /** False when already a member. */
  joinChannel(name: string, agentId: string, at: number): Promise<boolean>;
  /** False when not a member. */
  leaveChannel(name: string, agentId: string): Promise<boolean>;
  /** Active agents in the channel, ordered by id. */
  channelMembers(name: string): Promise<string[]>;
  /** Joins the agent to every auto-join channel. */
  autoJoin(agentId: string, at: number): Promise<void>;

  // ---- tasks (the contract board) ---------------------------------------------------------------
  createTask(t: NewTask): Promise<Task>;
  getTask(id: string): Promise<Task | null>;
  /** Open tasks first by priority then age; others newest first. */
  listTasks(q: TaskQuery): Promise<Task[]>;
  /**
   * Atomically claims the best open task `fits` allows for the agent (priority, then age) and
   * returns it; null when none fits. Two callers never get the same task.
   */
  claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null>;
  /**
   * Claimed tasks claimed before `silentSince` whose assignee was removed or has not been seen
   * since then (as recorded by recordSeen), oldest claim first, at most `limit`: the candidates of
   * claim expiry, found without reading every claimed task.
   */
  silentClaims(silentSince: number, limit: number): Promise<Task[]>;
  /**
   * Compare-and-set: applies `patch` only if the task is still in `expected` status (and, when
   * given, held by `expectedAssignee`). Returns the updated task, or null when it had moved on.
   */
  updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null>;

  // ---- reviews ---------------------------------------------------------------------------------
  /** Opens a new review round for the task with these reviewers; returns the round number. */
  requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number>;
  /** Reviews of the task, oldest round first. */
  reviewsOf(taskId: string): Promise<Review[]>;
  /** Records a verdict in the task's latest round, adding the reviewer to it when not asked. */
  decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void>;
  /** Verified points, tasks verified and done, reviews given, per agent, since a time. */
  leaderboard(since: number | null): Promise<LeaderboardRow[]>;

  // ---- delivery targets (domain/target.ts, src/delivery/) ---------------------------------------
  /**
   * Stores a target. Sends from then on queue a copy of each message its filter lets through for
   * it, in the send's own transaction (appendMessage).
   */
  createTarget(t: NewTarget): Promise<TargetRecord>;
  getTarget(id: string): Promise<TargetRecord | null>;
  /** One agent's targets, or every target (null), oldest first. */
  listTargets(agentId: string | null): Promise<TargetRecord[]>;
  /** Removes the target and its queue; false when there was none. */
  removeTarget(id: string): Promise<boolean>;
  /**
   * Leases up to `limit` queued pushes of the target that are due (oldest message first) to
   * `owner` until `now + visibilityMs`; pushes leased by a worker whose lease ran out are due
   * again. A push whose lease ran out on its last attempt (`maxAttempts`) goes dead instead.
   * Several workers never hold the same push at once.
   */
  leaseTargetDeliveries(targetId: string, owner: string, limit: number, now: number, visibilityMs: number, maxAttempts: number): Promise<TargetLease[]>;
  /**
   * Settles a leased push: deleted when it went through, retried or dead otherwise, and the
   * target's last error recorded, or its last success (at most once a second: within a second of
   * the time given). Ignored (false) when `owner` no longer holds it.
   */
  settleTargetDelivery(targetId: string, messageId: string, owner: string, o: TargetOutcome): Promise<boolean>;
  /** Queued and dead pushes per target. */
  targetBacklog(targetIds: string[]): Promise<Map<string, TargetBacklog>>;
  /** Replaces a webhook secret as stored (encrypted-store.ts: sealed again under the current key at the end of a key rotation). */
  storeTargetSecret(targetId: string, secret: string, sealedUnder: string | null): Promise<void>;
  /** Records the target's circuit breaker (the worker's, for `targets status`). */
  noteTargetBreaker(targetId: string, b: BreakerState): Promise<void>;
  /** Dead pushes of the target back to the queue, attempts reset; returns how many. */
  retryTargetDead(targetId: string, now: number): Promise<number>;

  // ---- retention (hub/retention.ts) ------------------------------------------------------------
  /**
   * Messages after `afterSeq` and up to `afterSeq + window` (by seq), created before `before`,
   * whose every delivery is acknowledged or expired (none open, none dead) and with no push queued
   * for a delivery target: what retention may remove, oldest first.
   */
  retentionCandidates(afterSeq: number, window: number, before: number): Promise<RetentionCandidate[]>;
  /** The seq of the first message after `afterSeq` and its creation time; null when none. */
  nextMessageAfter(afterSeq: number): Promise<{ seq: number; createdAt: number } | null>;
  /** Removes the messages with their deliveries, channel posts and search entries, in one transaction; returns how many. */
  deleteMessages(seqs: number[]): Promise<number>;

  // ---- templates -------------------------------------------------------------------------------
  getTemplate(name: string): Promise<Template | null>;
  listTemplates(): Promise<Template[]>;
  setTemplate(t: Template): Promise<void>;

  // ---- shared settings (versioned) ---------------------------------------------------------------
  /** Current value of every key ever set (null values included), with the newest version overall. */
  currentSettings(): Promise<{ version: number; values: Map<string, unknown> }>;
  /** Values of every key as they were right after `version` (keys first set later are absent). */
  settingsAt(version: number): Promise<Map<string, unknown>>;
  /**
   * Records changes, one version each, in one transaction; `previous` is filled from the store.
   * Returns them. `audit`: written in the same transaction (also for no changes: an empty list).
   */
  recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number, audit?: AuditOf<SettingChange[]>): Promise<SettingChange[]>;
  /** Newest first. */
  settingsHistory(limit: number): Promise<SettingChange[]>;
  /** The newest version number (0: never changed); cheap, for other processes to poll. */
  settingsVersion(): Promise<number>;
  /** Messages of a thread, oldest first, limited to what `viewer` sent or received (null: all). */
  thread(threadId: string, viewer: string | null): Promise<Message[]>;
  /** Newest first. */
  history(q: HistoryQuery): Promise<Message[]>;

  // ---- encryption at rest (encrypted-store.ts, hub/keys.ts) ------------------------------------
  /** Messages as stored, `sealed` included, in id order after `afterId` (null: from the start). */
  scanMessages(afterId: string | null, limit: number): Promise<StoredMessage[]>;
  /**
   * How stored content is sealed, cheaply: the key ids the oldest and the newest message are sealed
   * under (plain and LEGACY_SEALED ones left out), and up to `limit` messages marked LEGACY_SEALED.
   */
  sealingSample(limit: number): Promise<{ keys: string[]; legacy: StoredMessage[] }>;
  /** The newest key rotation (null: none was ever started). */
  keyRotation(): Promise<KeyRotation | null>;
  /**
   * Records a new running rotation, `total` being the messages stored now. Refuses with
   * `rotation_running` while another one runs, except the one named by `replacing` (still running
   * but abandoned by its process), which is marked failed in the same transaction.
   */
  beginKeyRotation(r: Omit<KeyRotation, 'total'>, replacing: string | null): Promise<KeyRotation>;
  /**
   * In one transaction, if rotation `r.id` is still running and owned by `owner`: writes the new
   * stored contents (the search index kept consistent) and `r` as the rotation's new state (a new
   * `r.owner` takes it over). Returns false, writing nothing, otherwise.
   */
  saveKeyRotation(r: KeyRotation, owner: string, contents: SealedContent[]): Promise<boolean>;

  // ---- audit chain (append-only) -------------------------------------------------------------------
  /**
   * Appends a record to the chain in one transaction: seq = last + 1, prev_hash = the last
   * record's hash (GENESIS_HASH for the first), time never before the last record's, hash by
   * `chainNext` (src/domain/audit.ts). Appenders are serialised (SQLite: the write lock;
   * PostgreSQL: a table lock), so the chain never forks, even across processes. Returns it.
   */
  appendAudit(r: NewAuditRecord): Promise<AuditRecord>;
  /** Newest first, filtered. */
  auditRecords(q: AuditQuery): Promise<AuditRecord[]>;
  /** Up to `limit` records with seq above `afterSeq`, in seq order: the chain, page by page, as stored. */
  auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  /**
   * Retention of the audit trail: removes up to `limit` of the oldest records dated before
   * `before`, never the newest, and keeps the last one removed as the checkpoint the chain is
   * verified from, in one transaction with the appenders locked out. Returns how many went.
   */
  trimAudit(before: number, limit: number, now: number): Promise<number>;
  /** The checkpoint of the last trim; null when no record was ever removed. */
  auditCheckpoint(): Promise<AuditCheckpoint | null>;
}
