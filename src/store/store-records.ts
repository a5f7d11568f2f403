// The records the Store contract (store.ts) takes and gives: what is written, asked for and
// answered, apart from the domain's own types. Re-exported by store.ts, where callers import them.
import type { Role } from '../domain/agent.js';
import type { NewAuditRecord } from '../domain/audit.js';
import type { Task, TaskStatus } from '../domain/task.js';
import type { DeliveryState, InboxItem, Message, MessageType } from '../domain/message.js';
import type { TargetFilter, TargetSettings, TargetWithSecret } from '../domain/target.js';
import type { StoredMessage as StoredMessageRecord } from './sealing.js';

export interface NewAgent {
  id: string;
  role: Role;
  specialty: string;
  capabilities: string[];
  createdAt: number;
}

export interface TokenRecord {
  id: string;
  agentId: string;
  /** SHA-256 of the token; the token itself is never stored. */
  hash: Buffer;
  label: string;
  createdAt: number;
  /** When it stops working (Unix ms); null or absent: never. */
  expiresAt?: number | null;
  /** Operations it is limited to; null or absent: whatever the agent's role allows. */
  scopes?: string[] | null;
}

/** A token as it is listed: never its hash. */
export interface TokenInfo {
  id: string;
  agentId: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  scopes: string[] | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/**
 * The audit records of an act, made from its outcome and appended to the chain in the act's own
 * transaction: both are stored, or neither (issue 12: an act must never be left unaudited). Called
 * once, inside the transaction and only when the act happens; it must be synchronous and do no I/O.
 * A throw, or a record the store cannot append, rolls the act back and fails the call.
 */
export type AuditOf<R> = (outcome: R) => NewAuditRecord[];

/** The hub's own credential for an agent (the admin token written at start): see `bootstrapToken`. */
export interface BootstrapToken {
  agent: NewAgent;
  token: TokenRecord;
  /**
   * Live tokens of the agent with these labels are revoked and replaced by `token`. Any other live
   * token of the agent means that nothing is minted. Empty: any live token means nothing is minted.
   */
  replacing: string[];
  /**
   * Mint even when the agent holds live tokens with other labels; those are kept (`swarm token
   * reissue-admin`: the admin's own tokens are not the hub's to revoke).
   */
  force?: boolean;
}

export interface BootstrapOutcome {
  /** `token` was stored. */
  minted: boolean;
  /** The agent was registered (or revived) by this call. */
  registered: boolean;
  /** Tokens revoked because `token` replaces them. */
  revoked: string[];
}

/** What authenticating with a token needs. Expiry is the caller's to check (to say why it fails). */
export interface TokenMatch {
  tokenId: string;
  agentId: string;
  expiresAt: number | null;
  scopes: string[] | null;
}

export interface AppendRequest {
  message: Message;
  /** Agent ids that get one delivery each (already resolved and checked by the hub). */
  recipients: string[];
  /**
   * Fingerprint of the request, so that a reused idempotency key with other content is caught;
   * null without an idempotency key (nothing will ever compare it).
   */
  requestHash: string | null;
  /** Channels the message was posted to (without `#`), for channel history. */
  channels?: string[];
}

export type AppendResult =
  | { status: 'created'; message: Message; recipients: string[] }
  /** A message with the same (sender, idempotency key) was stored earlier; nothing new was written. */
  | { status: 'duplicate'; message: Message; recipients: string[]; requestHash: string | null };

export interface InboxQuery {
  /** Which delivery states to list. */
  states: readonly DeliveryState[];
  limit: number;
}

export interface AckOptions {
  /** Refuse (`already_acked`, nothing changed) when any id is already acknowledged. */
  strict?: boolean;
}

export interface LeaseRequest {
  agentId: string;
  /** The consumer (stream session) that will hold the leases. */
  owner: string;
  limit: number;
}

export interface LeaseOptions {
  now: number;
  /** How long a hand-out stays leased before it is handed out again. */
  visibilityMs: number;
  /** Hand-outs before a delivery goes to the dead letters. */
  maxAttempts: number;
}

/** A delivery handed to a consumer. */
export interface LeasedItem extends InboxItem {
  /** Hub-wide hand-out number: increases with every hand-out; the stream event id. */
  handout: number;
  /** 1 for the first hand-out, 2 for the first redelivery, ... */
  attempt: number;
  leaseUntil: number;
}

export interface QueueStat {
  agent: string;
  /** Open deliveries not leased right now (including delayed ones). */
  depth: number;
  /** Leased to a consumer and not yet acknowledged. */
  inFlight: number;
  /** Nacked with a delay that has not passed yet (part of depth). */
  delayed: number;
  /** Hand-outs beyond the first, over all deliveries. */
  redeliveries: number;
  dead: number;
  acked: number;
  expired: number;
}

export interface DeadLetter {
  item: InboxItem;
  attempts: number;
  reason: string;
  deadAt: number;
}

export interface AckResult {
  acked: string[];
  /** Already acknowledged before this call: acking is idempotent. */
  already: string[];
}

export interface HistoryQuery {
  /** Only messages this agent sent or received; null for every message (admins, captains). */
  viewer: string | null;
  /** Only messages sent or received by this agent. */
  agent?: string | undefined;
  since?: number | undefined;
  type?: MessageType | undefined;
  /** Full-text search over subject and body: every word must appear. */
  search?: string | undefined;
  /** Only messages posted to this channel (name without `#`). */
  channel?: string | undefined;
  limit: number;
}

export interface NewChannel {
  name: string;
  description: string;
  autoJoin: boolean;
  createdBy: string;
  createdAt: number;
}

export type NewTask = Omit<Task, 'status' | 'assignee' | 'claimedAt' | 'doneAt' | 'note' | 'verifiedAt' | 'verifiedBy' | 'threadId'>;

/** Fields a task transition may set. */
export type TaskPatch = Partial<Pick<Task, 'status' | 'assignee' | 'claimedAt' | 'doneAt' | 'note' | 'verifiedAt' | 'verifiedBy' | 'threadId'>>;

export interface TaskQuery {
  status?: TaskStatus | undefined;
  assignee?: string | undefined;
  limit: number;
}

export interface SettingChange {
  version: number;
  key: string;
  /** JSON value; null: back to the hub's own configuration. */
  value: unknown;
  previous: unknown;
  author: string;
  note: string;
  createdAt: number;
}

export interface Template {
  name: string;
  body: string;
  updatedBy: string;
  updatedAt: number;
}

export interface AuditQuery {
  /** Only records at or after this time (ms). */
  since?: number | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  limit: number;
}

export interface SchemaInfo {
  /** Highest migration applied to the database. */
  current: number;
  /** Highest migration this code knows. */
  latest: number;
}

/** What hub processes sharing one store tell each other. */
export type StoreEvent =
  /** Deliveries of these agents may be available (sent, nacked, retried); '*': anyone's. */
  | { type: 'deliveries'; agents: string[] | '*' }
  /** These deliveries were acknowledged (frees the credit of a stream on another process). */
  | { type: 'acked'; agent: string; ids: string[] }
  /** Someone's presence may have changed. */
  | { type: 'presence' }
  /** The shared settings changed. */
  | { type: 'settings' }
  /** These tokens were revoked (or their agents removed): streams authenticated with them end. */
  | { type: 'revoked'; tokenIds: string[]; agents?: string[] }
  /** The event connection was lost and is back: anything may have been missed. */
  | { type: 'resync' }
  /** Agents or tokens changed (a store's own caches listen; the hub has nothing to do). */
  | { type: 'directory' }
  /** Agent-to-agent sends another process's loop guard counted: [from, to, how many]. */
  | { type: 'edges'; edges: [string, string, number][] }
  /** A loop another process's loop guard stopped: sends between these agents are held until `until`. */
  | { type: 'loop'; agents: string[]; count: number; windowSeconds: number; until: number }
  /** Delivery targets were added, removed or retried: deliverers read them again. */
  | { type: 'targets' };

/** A delivery target as stored (domain/target.ts), secret included. */
export interface TargetRecord extends TargetWithSecret {
  /** Key id the secret is sealed under (encrypted-store.ts); absent: stored as given. */
  secretSealed?: string;
}

export interface NewTarget {
  id: string;
  agentId: string;
  settings: TargetSettings;
  /** Webhook signing secret; '' for other kinds. */
  secret: string;
  /** Key id `secret` is sealed under (encrypted-store.ts); absent: stored as given. */
  secretSealed?: string;
  filter: TargetFilter;
  createdBy: string;
  createdAt: number;
}

/** A queued push of one message to one target, leased to a worker. */
export interface TargetLease {
  targetId: string;
  message: Message;
  /** 1 for the first push, 2 for the first retry, ... */
  attempt: number;
}

/** How a push went, as the worker settles it. */
export type TargetOutcome =
  | { ok: true; at: number }
  /** Retried at `retryAt`, or dead when `dead` (attempts used up, or retrying cannot help). */
  | { ok: false; at: number; error: string; retryAt: number; dead: boolean };

export interface TargetBacklog {
  /** Queued and not yet pushed (leased ones included). */
  pending: number;
  /** Given up on: delivery.maxAttempts used, or a permanent failure. */
  dead: number;
  /** Creation time of the oldest pending message; null when none. */
  oldestAt: number | null;
}

/** A message retention may remove (hub/retention.ts): old, and every delivery closed. */
export interface RetentionCandidate {
  seq: number;
  /** As stored: sealed content stays sealed (an archive keeps it so). */
  message: StoredMessageRecord;
  /** The channels it was posted to. */
  channels: string[];
}

/** Where the audit chain starts once retention removed its oldest records: the last one removed. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: number;
  /** When the records up to it were removed. */
  trimmedAt: number;
}
