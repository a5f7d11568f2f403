// Domain objects to their wire form (times as ISO strings, snake_case).
import type { Agent, Presence } from '../domain/agent.js';
import type { Delivery, InboxItem, Message } from '../domain/message.js';
import type { z } from 'zod';
import type { Channel } from '../domain/channel.js';
import type { Review, Task } from '../domain/task.js';
import type { KeyRotation } from '../store/sealing.js';
import type { TokenInfo } from '../store/store.js';
import type { WireAgent, WireChannel, WireInboxItem, WireKeyRotation, WireMessage, WireReview, WireTask, WireToken } from './schemas.js';

/**
 * Times as ISO text. A few recent ones are kept: the deliveries of one stream hand-out share their
 * lease end and delivery time, and a broadcast is one hand-out to every agent.
 */
const isoCache = new Map<number, string>();
function iso(ms: number | null): string | null {
  if (ms === null) return null;
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= 64) isoCache.clear();
    isoCache.set(ms, (text = new Date(ms).toISOString()));
  }
  return text;
}

export function wireMessage(m: Message): WireMessage {
  return {
    id: m.id,
    from: m.sender,
    to: m.to,
    kind: m.kind,
    type: m.type,
    priority: m.priority,
    subject: m.subject,
    body: m.body,
    tags: m.tags,
    thread_id: m.threadId,
    reply_to: m.replyTo,
    metadata: m.metadata,
    created_at: new Date(m.createdAt).toISOString(),
    expires_at: iso(m.expiresAt),
  };
}

export { iso as isoTime };

export function wireDelivery(d: Delivery): WireInboxItem['delivery'] {
  return {
    recipient: d.recipient,
    state: d.state,
    delivered_at: iso(d.deliveredAt),
    read_at: iso(d.readAt),
    acked_at: iso(d.ackedAt),
  };
}

export function wireInboxItem(i: InboxItem): WireInboxItem {
  return {
    message: wireMessage(i.message),
    delivery: wireDelivery(i.delivery),
  };
}

export function wireAgent(a: Agent & { presence: Presence }): WireAgent {
  return {
    id: a.id,
    role: a.role,
    specialty: a.specialty,
    capabilities: a.capabilities,
    status: a.status,
    presence: a.presence,
    mission: a.mission,
    created_at: new Date(a.createdAt).toISOString(),
    last_seen_at: iso(a.lastSeenAt),
  };
}

export function wireChannel(c: Channel & { member?: boolean }): WireChannel {
  return {
    name: c.name,
    description: c.description,
    auto_join: c.autoJoin,
    created_by: c.createdBy,
    created_at: new Date(c.createdAt).toISOString(),
    members: c.members,
    ...(c.member === undefined ? {} : { member: c.member }),
  };
}

export function wireTask(t: Task): WireTask {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    points: t.points,
    role: t.role,
    capabilities: t.capabilities,
    priority: t.priority,
    status: t.status,
    assignee: t.assignee,
    claimed_at: iso(t.claimedAt),
    done_at: iso(t.doneAt),
    note: t.note,
    verified_at: iso(t.verifiedAt),
    verified_by: t.verifiedBy,
    created_by: t.createdBy,
    created_at: new Date(t.createdAt).toISOString(),
    thread_id: t.threadId,
  };
}

export function wireReview(r: Review): z.infer<typeof WireReview> {
  return {
    round: r.round,
    reviewer: r.reviewer,
    requested_by: r.requestedBy,
    requested_at: new Date(r.requestedAt).toISOString(),
    verdict: r.verdict,
    comment: r.comment,
    decided_at: iso(r.decidedAt),
  };
}

export function wireToken(t: TokenInfo, now: number): WireToken {
  return {
    id: t.id,
    agent: t.agentId,
    label: t.label,
    created_at: new Date(t.createdAt).toISOString(),
    expires_at: iso(t.expiresAt),
    scopes: t.scopes,
    last_used_at: iso(t.lastUsedAt),
    expired: t.expiresAt !== null && t.expiresAt <= now,
  };
}

export function wireKeyRotation(r: KeyRotation): WireKeyRotation {
  return {
    id: r.id,
    state: r.state,
    key: r.key,
    previous: r.previous,
    scanned: r.scanned,
    rewritten: r.rewritten,
    skipped: r.skipped,
    total: r.total,
    started_by: r.startedBy,
    started_at: new Date(r.startedAt).toISOString(),
    updated_at: new Date(r.updatedAt).toISOString(),
    finished_at: iso(r.finishedAt),
    error: r.error,
  };
}
