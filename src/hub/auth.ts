// Authentication and acting-as: turns a bearer token (and an optional --as agent) into an Actor.
import type { Agent } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { mayManage } from '../security/permissions.js';
import { hashToken, looksLikeToken } from '../security/tokens.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AuditSink, noAudit } from './audit.js';

/** Where a request came from, for the audit trail. */
export interface RequestSource {
  address?: string | undefined;
  requestId?: string | undefined;
}

export class Auth {
  audit: AuditSink = noAudit;

  constructor(private readonly store: Store) {}

  async authenticate(token: string | undefined, as: string | undefined, from: RequestSource = {}): Promise<Actor> {
    if (token === undefined || token === '') {
      throw await this.refused(from, 'missing token', token, new HubError('unauthorized', 'missing bearer token: send `Authorization: Bearer <token>` (CLI: --token or SWARM_TOKEN)'));
    }
    const found = looksLikeToken(token) ? await this.store.findToken(hashToken(token)) : null;
    const principal = found === null ? null : await this.store.getAgent(found.agentId);
    if (principal === null) throw await this.refused(from, 'unknown or revoked token', token, new HubError('unauthorized', 'invalid or revoked token'));
    const requestId = from.requestId;
    if (as === undefined || as === '' || as === principal.id) return { principal, self: principal, requestId };
    try {
      return { principal, self: await this.actAs(principal, as), requestId };
    } catch (e) {
      await this.audit.record({ actor: principal.id, action: 'act.as', target: as, requestId: from.requestId, outcome: 'denied', detail: { reason: (e as HubError).code } });
      throw e;
    }
  }

  /** Records a failed authentication; returns the error to throw. */
  private async refused(from: RequestSource, reason: string, token: string | undefined, e: HubError): Promise<HubError> {
    // A fingerprint ties repeated attempts with one token together without keeping the token.
    const fingerprint = token !== undefined && looksLikeToken(token) ? hashToken(token).toString('hex').slice(0, 16) : undefined;
    await this.audit.record({ actor: 'anonymous', action: 'auth.failed', requestId: from.requestId, outcome: 'denied', detail: { reason, source: from.address, token: fingerprint } });
    return e;
  }

  private async actAs(principal: Agent, as: string): Promise<Agent> {
    authorize({ principal, self: principal }, 'act.as', `act as ${as}`);
    const target = await this.store.getAgent(as);
    if (target === null) throw new HubError('agent_not_found', `cannot act as ${as}: no such agent`, { details: { agent: as } });
    if (!mayManage(principal.role, target.role)) {
      throw new HubError('forbidden', `${principal.id} (role ${principal.role}) may not act as ${as} (role ${target.role})`, {
        details: { operation: 'act.as' },
      });
    }
    return target;
  }
}
