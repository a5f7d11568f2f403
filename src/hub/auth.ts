// Authentication and acting-as: turns a bearer token (and an optional --as agent) into an Actor.
import type { Agent } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { mayManage } from '../security/permissions.js';
import { hashToken, looksLikeToken } from '../security/tokens.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';

export class Auth {
  constructor(private readonly store: Store) {}

  async authenticate(token: string | undefined, as: string | undefined): Promise<Actor> {
    if (token === undefined || token === '') {
      throw new HubError('unauthorized', 'missing bearer token: send `Authorization: Bearer <token>` (CLI: --token or SWARM_TOKEN)');
    }
    const found = looksLikeToken(token) ? await this.store.findToken(hashToken(token)) : null;
    if (found === null) throw new HubError('unauthorized', 'invalid or revoked token');
    const principal = await this.store.getAgent(found.agentId);
    if (principal === null) throw new HubError('unauthorized', 'invalid or revoked token');
    if (as === undefined || as === '' || as === principal.id) return { principal, self: principal };
    return { principal, self: await this.actAs(principal, as) };
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
