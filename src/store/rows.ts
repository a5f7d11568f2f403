// Row <-> domain mapping for both adapters: the PostgreSQL adapter decodes its rows into the same
// shapes as SQLite's (BIGINT as a number, JSON as its text; postgres/connection.ts).
import type { Agent, Presence, Role } from '../domain/agent.js';
import type { Channel } from '../domain/channel.js';
import type { Review, Task, TaskStatus } from '../domain/task.js';
import type { DeliveryState, InboxItem, Kind, MessageType } from '../domain/message.js';
import { priorityFromRank, priorityRank } from '../domain/message.js';
import type { KeyRotation, KeyRotationState, StoredMessage } from './sealing.js';
import type { LeasedItem, TokenInfo, TokenMatch } from './store.js';

export interface AgentRow {
  id: string;
  role: string;
  specialty: string;
  capabilities: string;
  status: string;
  mission: string;
  created_at: number;
  last_seen_at: number | null;
}

export interface MessageRow {
  seq: number;
  id: string;
  sender: string;
  recipients: string;
  kind: string;
  type: string;
  priority: number;
  subject: string;
  body: string;
  tags: string;
  thread_id: string;
  reply_to: string | null;
  metadata: string;
  created_at: number;
  expires_at: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  /** StoredMessage.sealed; NULL: as sent. */
  sealed: string | null;
}

export interface InboxRow extends MessageRow {
  d_recipient: string;
  d_state: string;
  d_delivered_at: number | null;
  d_read_at: number | null;
  d_acked_at: number | null;
  d_attempts: number;
  d_handout: number | null;
  d_lease_until: number | null;
}

export function toAgent(r: AgentRow): Agent {
  return {
    id: r.id,
    role: r.role as Role,
    specialty: r.specialty,
    capabilities: JSON.parse(r.capabilities) as string[],
    status: r.status as Presence,
    mission: r.mission,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

/** The message as stored: `sealed` only when its content is sealed (sealing.ts). */
export function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    id: r.id,
    sender: r.sender,
    to: JSON.parse(r.recipients) as string[],
    kind: r.kind as Kind,
    type: r.type as MessageType,
    priority: priorityFromRank(r.priority),
    subject: r.subject,
    body: r.body,
    tags: JSON.parse(r.tags) as string[],
    threadId: r.thread_id,
    replyTo: r.reply_to,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    idempotencyKey: r.idempotency_key,
  };
  if (r.sealed !== null && r.sealed !== undefined) m.sealed = r.sealed;
  return m;
}

export function toInboxItem(r: InboxRow): InboxItem {
  return {
    message: toMessage(r),
    delivery: {
      messageId: r.id,
      recipient: r.d_recipient,
      state: r.d_state as DeliveryState,
      deliveredAt: r.d_delivered_at,
      readAt: r.d_read_at,
      ackedAt: r.d_acked_at,
    },
  };
}

export function messageParams(m: StoredMessage, requestHash: string | null): Record<string, unknown> {
  return {
    id: m.id,
    sender: m.sender,
    recipients: JSON.stringify(m.to),
    kind: m.kind,
    type: m.type,
    priority: priorityRank(m.priority),
    subject: m.subject,
    body: m.body,
    tags: JSON.stringify(m.tags),
    thread_id: m.threadId,
    reply_to: m.replyTo,
    metadata: JSON.stringify(m.metadata),
    created_at: m.createdAt,
    expires_at: m.expiresAt,
    idempotency_key: m.idempotencyKey,
    request_hash: requestHash,
    sealed: m.sealed ?? null,
  };
}

export function toLeasedItem(r: InboxRow): LeasedItem {
  return { ...toInboxItem(r), handout: r.d_handout ?? 0, attempt: r.d_attempts, leaseUntil: r.d_lease_until ?? 0 };
}

export interface ChannelRow {
  name: string;
  description: string;
  auto_join: number;
  created_by: string;
  created_at: number;
  members: number;
}

export function toChannel(r: ChannelRow): Channel {
  return { name: r.name, description: r.description, autoJoin: r.auto_join === 1, createdBy: r.created_by, createdAt: r.created_at, members: r.members };
}

export interface TaskRow {
  seq: number;
  id: string;
  title: string;
  description: string;
  points: number;
  role: string | null;
  capabilities: string;
  priority: number;
  status: string;
  assignee: string | null;
  claimed_at: number | null;
  done_at: number | null;
  note: string;
  verified_at: number | null;
  verified_by: string | null;
  created_by: string;
  created_at: number;
  thread_id: string | null;
}

export function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    points: r.points,
    role: r.role as Role | null,
    capabilities: JSON.parse(r.capabilities) as string[],
    priority: priorityFromRank(r.priority),
    status: r.status as TaskStatus,
    assignee: r.assignee,
    claimedAt: r.claimed_at,
    doneAt: r.done_at,
    note: r.note,
    verifiedAt: r.verified_at,
    verifiedBy: r.verified_by,
    createdBy: r.created_by,
    createdAt: r.created_at,
    threadId: r.thread_id,
  };
}

export function taskParams(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    status: t.status,
    assignee: t.assignee,
    claimed_at: t.claimedAt,
    done_at: t.doneAt,
    note: t.note,
    verified_at: t.verifiedAt,
    verified_by: t.verifiedBy,
    thread_id: t.threadId,
  };
}

export interface ReviewRow {
  task_id: string;
  round: number;
  reviewer: string;
  requested_by: string;
  requested_at: number;
  verdict: string | null;
  comment: string;
  decided_at: number | null;
}

export function toReview(r: ReviewRow): Review {
  return {
    taskId: r.task_id,
    round: r.round,
    reviewer: r.reviewer,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    verdict: r.verdict as Review['verdict'],
    comment: r.comment,
    decidedAt: r.decided_at,
  };
}

export interface TokenRow {
  id: string;
  agent_id: string;
  label: string;
  created_at: number;
  expires_at: number | null;
  scopes: string | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface TokenMatchRow {
  token_id: string;
  agent_id: string;
  expires_at: number | null;
  scopes: string | null;
}

function scopesOf(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

export function toTokenInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    agentId: r.agent_id,
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    scopes: scopesOf(r.scopes),
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export function toTokenMatch(r: TokenMatchRow): TokenMatch {
  return { tokenId: r.token_id, agentId: r.agent_id, expiresAt: r.expires_at, scopes: scopesOf(r.scopes) };
}

export interface KeyRotationRow {
  id: string;
  key_id: string;
  previous: string;
  state: string;
  owner: string;
  after_id: string;
  scanned: number;
  rewritten: number;
  skipped: number;
  total: number;
  started_by: string;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  error: string | null;
}

export function toKeyRotation(r: KeyRotationRow): KeyRotation {
  return {
    id: r.id,
    key: r.key_id,
    previous: r.previous,
    state: r.state as KeyRotationState,
    owner: r.owner,
    afterId: r.after_id,
    scanned: r.scanned,
    rewritten: r.rewritten,
    skipped: r.skipped,
    total: r.total,
    startedBy: r.started_by,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

export function keyRotationParams(r: KeyRotation): KeyRotationRow {
  return {
    id: r.id,
    key_id: r.key,
    previous: r.previous,
    state: r.state,
    owner: r.owner,
    after_id: r.afterId,
    scanned: r.scanned,
    rewritten: r.rewritten,
    skipped: r.skipped,
    total: r.total,
    started_by: r.startedBy,
    started_at: r.startedAt,
    updated_at: r.updatedAt,
    finished_at: r.finishedAt,
    error: r.error,
  };
}
