// Messages and deliveries: the vocabulary, the recipient grammar and the derived sender/recipient
// tag. No I/O here.
import type { Role } from './agent.js';
import { isHuman, SYSTEM_ID } from './agent.js';

export const MESSAGE_TYPES = ['text', 'report', 'review', 'deployment', 'status', 'task', 'onboarding', 'system'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const PRIORITIES = ['low', 'regular', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Inbox order: higher rank first. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}
export function priorityFromRank(rank: number): Priority {
  const p = PRIORITIES[rank];
  if (p === undefined) throw new Error(`bad priority rank ${rank}`);
  return p;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'read', 'acked', 'expired', 'dead'] as const;
/** States in which a delivery still waits for its recipient. */
export const OPEN_STATES = ['pending', 'delivered', 'read'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The header tag the original tool showed: who talks to whom. */
export type Kind = 'A2A' | 'C2A' | 'C2A-ALL' | 'A2C' | 'H2A' | 'S2A';

export interface Message {
  id: string;
  sender: string;
  /** The addresses as the sender wrote them (`Agent-2`, `all`). */
  to: string[];
  kind: Kind;
  type: MessageType;
  priority: Priority;
  subject: string;
  body: string;
  tags: string[];
  threadId: string;
  replyTo: string | null;
  metadata: Record<string, unknown>;
  createdAt: number;
  expiresAt: number | null;
  idempotencyKey: string | null;
}

export interface Delivery {
  messageId: string;
  recipient: string;
  state: DeliveryState;
  deliveredAt: number | null;
  readAt: number | null;
  ackedAt: number | null;
}

/** A message as it sits in one recipient's inbox. */
export interface InboxItem {
  message: Message;
  delivery: Delivery;
}

export const BROADCAST = 'all';

/**
 * Parses what a sender typed as recipients: one address or a comma list; `all`; `#channel`.
 * Returns the distinct addresses in the order given.
 */
export function parseRecipients(input: string | string[]): string[] {
  const out: string[] = [];
  // Plain loops: this runs on every send (the flatMap/map version was ~3 % of the event loop in a send profile).
  for (const s of Array.isArray(input) ? input : [input]) {
    for (const part of s.split(',')) {
      const p = part.trim();
      if (p !== '' && !out.includes(p)) out.push(p);
    }
  }
  return out;
}

export interface KindInput {
  sender: string;
  senderRole: Role | 'system';
  to: string[];
  recipientRoles: Role[];
}

/**
 * The derived tag. System first, then humans (ids `human:*` and admins acting as themselves are
 * the people operating the swarm), then captains; an agent writing to a captain is A2C.
 */
export function deriveKind(k: KindInput): Kind {
  if (k.sender === SYSTEM_ID || k.senderRole === 'system') return 'S2A';
  if (isHuman(k.sender) || k.senderRole === 'admin') return 'H2A';
  if (k.senderRole === 'captain') return k.to.includes(BROADCAST) ? 'C2A-ALL' : 'C2A';
  if (k.recipientRoles.length > 0 && k.recipientRoles.every((r) => r === 'captain')) return 'A2C';
  return 'A2A';
}
