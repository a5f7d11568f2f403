// The caller of a hub operation: who authenticated (principal) and whom they act as (self, or an
// agent they speak for with --as), and with which token. Every hub service takes an Actor; none
// trusts a bare id.
import type { Agent } from '../domain/agent.js';
import { SYSTEM_ID } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { allows, type Operation, scopeAllows } from '../security/permissions.js';

export interface Actor {
  principal: Agent;
  /** The identity the operation is performed as: the principal itself unless acting for another. */
  self: Agent;
  /** The request the operation belongs to, for the audit trail. */
  requestId?: string | undefined;
  /** The token the caller authenticated with (absent for the hub's own actions). */
  tokenId?: string | undefined;
  /** Operations the token is limited to; null or absent: whatever the role allows. */
  scopes?: readonly string[] | null | undefined;
  /** When the token stops working (Unix ms); null or absent: never. */
  expiresAt?: number | null | undefined;
}

/** Whether the actor's role and token scopes allow the operation. */
export function may(actor: Actor, op: Operation): boolean {
  return allows(actor.principal.role, op) && scopeAllows(actor.scopes, op);
}

export function authorize(actor: Actor, op: Operation, what: string): void {
  if (!allows(actor.principal.role, op)) {
    throw new HubError('forbidden', `${actor.principal.id} (role ${actor.principal.role}) may not ${what}`, {
      details: { operation: op, role: actor.principal.role },
    });
  }
  if (!scopeAllows(actor.scopes, op)) {
    throw new HubError('forbidden', `this token of ${actor.principal.id} is limited to ${actor.scopes?.join(', ')}: it may not ${what} (${op})`, {
      details: { operation: op, role: actor.principal.role, scopes: actor.scopes },
    });
  }
}

/** The hub itself, posting notices (task changes, the loop guard) as sender `system`. */
export const SYSTEM_ACTOR: Actor = (() => {
  const system: Agent = { id: SYSTEM_ID, role: 'admin', specialty: 'Swarm hub', capabilities: [], status: 'online', mission: '', createdAt: 0, lastSeenAt: null };
  return { principal: system, self: system };
})();
