// The Store contract: everything the hub keeps, and nothing about how. Adapters (SQLite now,
// PostgreSQL later) implement it; nothing above this layer imports a database driver. Every method
// is async so that a networked adapter fits the same shape. The conformance suite in
// test/conformance/ is the executable form of this contract: an adapter is correct when it passes.
import type { Agent, Presence, Role } from '../domain/agent.js';
import type { DeliveryState, InboxItem, Message, MessageType } from '../domain/message.js';

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
}

export interface AppendRequest {
  message: Message;
  /** Agent ids that get one delivery each (already resolved and checked by the hub). */
  recipients: string[];
  /** Fingerprint of the request, so that a reused idempotency key with other content is caught. */
  requestHash: string;
}

export type AppendResult =
  | { status: 'created'; message: Message; recipients: string[] }
  /** A message with the same (sender, idempotency key) was stored earlier; nothing new was written. */
  | { status: 'duplicate'; message: Message; recipients: string[]; requestHash: string };

export interface InboxQuery {
  /** Which delivery states to list. */
  states: readonly DeliveryState[];
  limit: number;
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
  limit: number;
}

export interface SchemaInfo {
  /** Highest migration applied to the database. */
  current: number;
  /** Highest migration this code knows. */
  latest: number;
}

export interface Store {
  /** 'sqlite' | 'postgres': for logs and /readyz only; callers never branch on it. */
  readonly kind: string;

  /** Cheap round trip to the database, for /readyz. Throws when it is unreachable. */
  ping(): Promise<void>;
  schema(): Promise<SchemaInfo>;
  /** Finishes pending group commits, then closes. Further calls fail. */
  close(): Promise<void>;

  // ---- agents -------------------------------------------------------------------------------
  /** Registers an agent; re-registering a removed id revives it. Throws `agent_exists` if active. */
  createAgent(agent: NewAgent): Promise<Agent>;
  /** An active (not removed) agent, or null. */
  getAgent(id: string): Promise<Agent | null>;
  /** Active agents, ordered by id. */
  listAgents(): Promise<Agent[]>;
  /** Marks the agent removed and revokes its tokens; its messages stay in history. False if unknown. */
  removeAgent(id: string, at: number): Promise<boolean>;
  /** Sets status and mission (and counts as being seen). Null if the agent is unknown. */
  setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null>;
  /** Records last-seen times, batched by the caller; unknown ids are ignored. */
  recordSeen(seen: ReadonlyMap<string, number>): Promise<void>;

  // ---- tokens -------------------------------------------------------------------------------
  createToken(token: TokenRecord): Promise<void>;
  /** The agent a live token belongs to (not revoked, agent not removed), or null. */
  findToken(hash: Buffer): Promise<{ tokenId: string; agentId: string } | null>;
  /** Whether an active agent holds any live token. */
  hasLiveToken(agentId: string): Promise<boolean>;

  // ---- messages -----------------------------------------------------------------------------
  /**
   * Stores a message and one `pending` delivery per recipient, atomically. Concurrent calls are
   * group-committed: they share one transaction, and each promise resolves only after the
   * transaction holding it has committed (so a resolved append survives a crash of the process).
   * With an idempotency key already used by the same sender, stores nothing and returns the
   * earlier message as `duplicate`.
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
   * `message_not_found` naming it and changes nothing.
   */
  ack(agentId: string, messageIds: string[], at: number): Promise<AckResult>;
  /** Messages of a thread, oldest first, limited to what `viewer` sent or received (null: all). */
  thread(threadId: string, viewer: string | null): Promise<Message[]>;
  /** Newest first. */
  history(q: HistoryQuery): Promise<Message[]>;
}
