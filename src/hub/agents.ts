// The roster: register (with a token), list with presence, remove, set status. Registration and
// removal are stored with their audit records in one transaction.
import { randomUUID } from 'node:crypto';
import type { Agent, Presence, Role } from '../domain/agent.js';
import { hasInbox, RESERVED_IDS } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { mayManage } from '../security/permissions.js';
import { hashToken, newToken } from '../security/tokens.js';
import type { BootstrapOutcome, Store, TokenRecord } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { by, entry } from './audit.js';
import type { PresenceTracker } from './presence.js';

export interface RegisterInput {
  id: string;
  role: Role;
  specialty?: string | undefined;
  capabilities?: string[] | undefined;
}

export type AgentView = Agent & { presence: Presence };

export class Agents {
  constructor(
    private readonly store: Store,
    private readonly presence: PresenceTracker,
    private readonly now: () => number,
    /** An agent was removed and these tokens of it revoked: its streams end, everywhere. */
    private readonly onRemoved: (agentId: string, tokenIds: string[]) => void,
  ) {}

  /** Registers an agent and issues its first token (returned once, stored as a hash). */
  async register(actor: Actor, input: RegisterInput): Promise<{ agent: AgentView; token: string }> {
    authorize(actor, 'agent.register', 'register agents');
    if (!mayManage(actor.principal.role, input.role)) {
      throw new HubError('forbidden', `${actor.principal.id} (role ${actor.principal.role}) may not register an agent with role ${input.role}`, {
        details: { operation: 'agent.register' },
      });
    }
    if (RESERVED_IDS.has(input.id)) throw new HubError('validation_failed', `'${input.id}' is reserved and cannot be an agent id`);
    return this.create(input, actor);
  }

  /** Registers the agent with its first token and the audit records of both, in one transaction. */
  private async create(input: RegisterInput, byActor: Actor): Promise<{ agent: AgentView; token: string }> {
    const now = this.now();
    const token = newToken();
    const record: TokenRecord = { id: randomUUID(), agentId: input.id, hash: hashToken(token), label: 'initial', createdAt: now };
    const b = by(byActor);
    const agent = await this.store.createAgent(
      { id: input.id, role: input.role, specialty: input.specialty ?? '', capabilities: input.capabilities ?? [], createdAt: now },
      {
        token: record,
        audit: (a) => [
          entry({ ...b, action: 'agent.register', target: a.id, detail: { ...b.detail, role: a.role } }, now),
          entry({ ...b, action: 'token.create', target: a.id, detail: { ...b.detail, token: record.id, label: record.label } }, now),
        ],
      },
    );
    this.presence.forget(agent.id);
    if (agent.role !== 'admin' && hasInbox(agent.role)) await this.store.autoJoin(agent.id, now);
    return { agent: this.presence.view(agent, now), token };
  }

  /**
   * The hub's own credential for an agent it registers itself (the admin at start), minted once:
   * see Store.bootstrapToken. Returns the token, or null when the agent already holds one that
   * this does not replace (another process minted it, or an admin issued one).
   */
  async bootstrap(input: RegisterInput, label: string, replacing: string[]): Promise<string | null> {
    const out = await mintOwnToken(this.store, input, { label, replacing, now: this.now() });
    // Only a store this process owns replaces tokens, at start: no stream has opened yet.
    if (out.registered) this.presence.forget(input.id);
    return out.minted ? out.token : null;
  }

  async list(actor: Actor): Promise<AgentView[]> {
    authorize(actor, 'agent.list', 'see the roster');
    const now = this.now();
    return (await this.store.listAgents()).map((a) => this.presence.view(a, now));
  }

  async get(actor: Actor, id: string): Promise<AgentView> {
    authorize(actor, 'agent.list', 'see the roster');
    const agent = await this.store.getAgent(id);
    if (agent === null) throw new HubError('agent_not_found', `unknown agent ${id}`, { details: { agent: id } });
    return this.presence.view(agent, this.now());
  }

  /** The caller as the roster shows it: principal and self (whoami, heartbeat). */
  identity(actor: Actor): { principal: AgentView; self: AgentView } {
    authorize(actor, 'identity.own', 'see who it is');
    const now = this.now();
    return { principal: this.presence.view(actor.principal, now), self: this.presence.view(actor.self, now) };
  }

  /** The caller, marked alive (any authenticated call does that), as the roster shows it. */
  async heartbeat(actor: Actor): Promise<AgentView> {
    authorize(actor, 'identity.own', 'send heartbeats');
    const self = await this.store.getAgent(actor.self.id);
    if (self === null) throw new HubError('agent_not_found', `unknown agent ${actor.self.id}`);
    return this.presence.view(self, this.now());
  }

  async remove(actor: Actor, id: string): Promise<void> {
    authorize(actor, 'agent.remove', 'remove agents');
    const agent = await this.store.getAgent(id);
    if (agent === null) throw new HubError('agent_not_found', `unknown agent ${id}`, { details: { agent: id } });
    if (!mayManage(actor.principal.role, agent.role)) {
      throw new HubError('forbidden', `${actor.principal.id} (role ${actor.principal.role}) may not remove ${id} (role ${agent.role})`);
    }
    if (agent.id === actor.principal.id) throw new HubError('forbidden', 'an agent cannot remove itself');
    const tokens = (await this.store.listTokens(id)).map((t) => t.id);
    const at = this.now();
    const b = by(actor);
    await this.store.removeAgent(id, at, () => [entry({ ...b, action: 'agent.remove', target: id, detail: { ...b.detail, role: agent.role } }, at)]);
    this.presence.forget(id);
    this.onRemoved(id, tokens);
  }

  async setStatus(actor: Actor, status: Presence, mission: string | undefined): Promise<AgentView> {
    authorize(actor, 'status.own', 'set a status');
    const now = this.now();
    const updated = await this.store.setStatus(actor.self.id, status, mission ?? actor.self.mission, now);
    if (updated === null) throw new HubError('agent_not_found', `unknown agent ${actor.self.id}`);
    this.presence.seen(actor.self.id, now);
    this.presence.changedHere();
    return this.presence.view(updated, now);
  }
}

/** How the hub mints its own credential for an agent: see Store.bootstrapToken and BootstrapToken. */
export interface OwnToken {
  label: string;
  replacing: string[];
  now: number;
  /** Mint beside live tokens with other labels (BootstrapToken.force). */
  force?: boolean;
  /** The secret to store (its hash); default a new one. */
  secret?: string;
  /** Added to the detail of each audit record (who asked for it, from where). */
  detail?: Record<string, unknown>;
}

/**
 * Registers the agent when it is not active and mints its token, revoking the ones it replaces,
 * with the audit records of each (actor `hub`) in the same transaction. Returns the secret with
 * what the store did.
 */
export async function mintOwnToken(store: Store, input: RegisterInput, o: OwnToken): Promise<BootstrapOutcome & { token: string; id: string }> {
  const token = o.secret ?? newToken();
  const record: TokenRecord = { id: randomUUID(), agentId: input.id, hash: hashToken(token), label: o.label, createdAt: o.now };
  const b = by(null);
  const detail = { ...b.detail, ...o.detail };
  const out = await store.bootstrapToken(
    { agent: { id: input.id, role: input.role, specialty: input.specialty ?? '', capabilities: input.capabilities ?? [], createdAt: o.now }, token: record, replacing: o.replacing, force: o.force },
    (r) => [
      ...(r.registered ? [entry({ ...b, action: 'agent.register', target: input.id, detail: { ...detail, role: input.role } }, o.now)] : []),
      ...r.revoked.map((id) => entry({ ...b, action: 'token.revoke', target: input.id, detail: { ...detail, token: id, rotated_to: record.id } }, o.now)),
      entry({ ...b, action: 'token.create', target: input.id, detail: { ...detail, token: record.id, label: o.label } }, o.now),
    ],
  );
  return { ...out, token, id: record.id };
}
