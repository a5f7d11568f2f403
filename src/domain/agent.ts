// Agents: identities that send and receive. No I/O here, only the rules.

/**
 * `observer`: read-only (dashboards): the roster, channels, the board, the leaderboard and queue
 * numbers; no inbox, so nothing is sent to it and it sends nothing.
 */
export const ROLES = ['agent', 'captain', 'admin', 'observer'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that have an inbox: they receive messages, join channels and stream deliveries. */
export function hasInbox(role: Role): boolean {
  return role !== 'observer';
}

export const PRESENCE = ['online', 'busy', 'idle', 'offline'] as const;
export type Presence = (typeof PRESENCE)[number];

/** `Agent-3`, `captain`, `human:ana`. Letters, digits, `.`, `_`, `-`; an optional `human:` prefix. */
export const AGENT_ID_PATTERN = /^(human:)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Ids with a meaning of their own: never registrable as agents. */
export const RESERVED_IDS = new Set(['all', 'system']);

export const SYSTEM_ID = 'system';

export interface Agent {
  id: string;
  role: Role;
  specialty: string;
  capabilities: string[];
  /** The status the agent last set (or `online` once it has been seen). */
  status: Presence;
  mission: string;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface PresenceTimeouts {
  idleAfterMs: number;
  offlineAfterMs: number;
}

/**
 * What the roster shows: the agent's own status while it is heard from, `idle` after a silence,
 * `offline` after a longer one (or when never seen).
 */
export function effectivePresence(agent: Pick<Agent, 'status' | 'lastSeenAt'>, now: number, t: PresenceTimeouts): Presence {
  if (agent.lastSeenAt === null) return 'offline';
  const silence = now - agent.lastSeenAt;
  if (silence >= t.offlineAfterMs) return 'offline';
  if (agent.status === 'offline') return 'offline';
  if (silence >= t.idleAfterMs) return 'idle';
  return agent.status;
}

export function isHuman(id: string): boolean {
  return id.startsWith('human:');
}
