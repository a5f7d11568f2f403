// Domain objects to their wire form (times as ISO strings, snake_case).
import type { Agent, Presence } from '../domain/agent.js';
import type { InboxItem, Message } from '../domain/message.js';
import type { WireAgent, WireInboxItem, WireMessage } from './schemas.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

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

export function wireInboxItem(i: InboxItem): WireInboxItem {
  return {
    message: wireMessage(i.message),
    delivery: {
      recipient: i.delivery.recipient,
      state: i.delivery.state,
      delivered_at: iso(i.delivery.deliveredAt),
      read_at: iso(i.delivery.readAt),
      acked_at: iso(i.delivery.ackedAt),
    },
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
