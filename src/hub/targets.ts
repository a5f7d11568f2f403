// Delivery targets as a hub service: who may add, see and remove which target, the checks on a
// target's settings, and its status (queue, dead pushes, breaker, last success and error). The
// pushes themselves are made by src/delivery/ in the worker.
//
// Webhooks are the agent's own business: an agent manages its own, captains and admins anyone's.
// File, tmux and command targets act on the hub's host with the hub's privileges (write a
// directory, type into a terminal, run a program): only admins add those (`target.host`).
import { randomBytes } from 'node:crypto';
import { isAbsolute, normalize } from 'node:path';
import { hasInbox } from '../domain/agent.js';
import { newId } from '../domain/ids.js';
import { type BreakerState, type TargetFilter, type TargetSettings, type Target, MAX_TARGETS_PER_AGENT } from '../domain/target.js';
import { HubError } from '../errors.js';
import { mayManage } from '../security/permissions.js';
import type { Store, TargetBacklog, TargetLease, TargetOutcome, TargetRecord } from '../store/store.js';

export type { TargetLease, TargetOutcome, TargetRecord };
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type Audit, by } from './audit.js';

export interface NewTargetInput {
  settings: TargetSettings;
  filter: TargetFilter;
  /** Webhook signing secret; generated when absent. */
  secret?: string | undefined;
}

/** A target as callers see it: never its secret. */
export type TargetView = Target;

export interface TargetStatus extends TargetView {
  backlog: TargetBacklog;
}

const view = (t: TargetRecord): TargetView => {
  const { secret: _secret, secretSealed: _sealed, ...rest } = t;
  return rest;
};

export class Targets {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly audit: Audit,
    private readonly now: () => number,
    /** Told when targets are added, removed or retried here (the hub tells the other processes). */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Calls `fn` whenever targets change, here or in another process (the deliverers re-read them). */
  listen(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Targets changed (in another process: the hub's event handler calls this). */
  changed(): void {
    for (const fn of this.listeners) fn();
  }

  private changedHere(): void {
    this.changed();
    this.onChange();
  }

  /** Adds a target; the answer holds the webhook secret, shown this once. */
  async add(actor: Actor, agentId: string, input: NewTargetInput): Promise<{ target: TargetView; secret: string | null }> {
    await this.mayChange(actor, agentId, input.settings.kind, 'add a delivery target');
    checkSettings(input.settings);
    checkFilter(input.filter);
    const existing = await this.store.listTargets(agentId);
    if (existing.length >= MAX_TARGETS_PER_AGENT) {
      throw new HubError('validation_failed', `${agentId} already has ${existing.length} delivery targets (at most ${MAX_TARGETS_PER_AGENT}): remove one first`);
    }
    const secret = input.settings.kind === 'webhook' ? (input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`) : '';
    if (input.settings.kind === 'webhook' && secret.length < 16) throw new HubError('validation_failed', 'a webhook secret needs at least 16 characters');
    const at = this.now();
    const id = newId(at);
    await this.audit.write({ ...by(actor), action: 'target.add', target: agentId, detail: { ...by(actor).detail, id, kind: input.settings.kind } });
    const t = await this.store.createTarget({ id, agentId, settings: input.settings, secret, filter: input.filter, createdBy: actor.self.id, createdAt: at });
    this.changedHere();
    return { target: view(t), secret: secret === '' ? null : secret };
  }

  async list(actor: Actor, agentId: string | null): Promise<TargetView[]> {
    if (agentId === null) authorize(actor, 'target.any', 'see every agent’s delivery targets');
    else await this.maySee(actor, agentId);
    return (await this.store.listTargets(agentId)).map(view);
  }

  async get(actor: Actor, id: string): Promise<TargetRecord> {
    const t = await this.store.getTarget(id);
    if (t === null) throw notFound(id);
    try {
      await this.maySee(actor, t.agentId);
    } catch (e) {
      // Another agent's target does not exist, as far as this caller can tell.
      if (e instanceof HubError && e.code === 'forbidden') throw notFound(id);
      throw e;
    }
    return t;
  }

  async remove(actor: Actor, id: string): Promise<TargetView> {
    const t = await this.get(actor, id);
    await this.mayChange(actor, t.agentId, t.settings.kind, 'remove a delivery target');
    await this.audit.write({ ...by(actor), action: 'target.remove', target: t.agentId, detail: { ...by(actor).detail, id, kind: t.settings.kind } });
    if (!(await this.store.removeTarget(id))) throw notFound(id);
    this.changedHere();
    return view(t);
  }

  /** The target with its secret, for a test push by someone who may change it (`swarm targets test`). */
  async forTest(actor: Actor, id: string): Promise<TargetRecord> {
    const t = await this.get(actor, id);
    await this.mayChange(actor, t.agentId, t.settings.kind, 'test a delivery target');
    return t;
  }

  /** Dead pushes of the target back to its queue. */
  async retry(actor: Actor, id: string): Promise<number> {
    const t = await this.get(actor, id);
    await this.mayChange(actor, t.agentId, t.settings.kind, 'retry a delivery target’s dead pushes');
    const n = await this.store.retryTargetDead(id, this.now());
    this.changedHere();
    return n;
  }

  async status(actor: Actor, agentId: string | null): Promise<TargetStatus[]> {
    const targets = await this.list(actor, agentId);
    const backlog = await this.store.targetBacklog(targets.map((t) => t.id));
    return targets.map((t) => ({
      ...t,
      backlog: backlog.get(t.id) ?? { pending: 0, dead: 0, oldestAt: null },
    }));
  }

  private async maySee(actor: Actor, agentId: string): Promise<void> {
    if (actor.self.id === agentId) return authorize(actor, 'target.own', 'see its delivery targets');
    authorize(actor, 'target.any', `see ${agentId}’s delivery targets`);
  }

  private async mayChange(actor: Actor, agentId: string, kind: TargetSettings['kind'], what: string): Promise<void> {
    if (actor.self.id === agentId) authorize(actor, 'target.own', what);
    else authorize(actor, 'target.any', `${what} for ${agentId}`);
    if (kind !== 'webhook') authorize(actor, 'target.host', `${what} of kind ${kind} (it acts on the hub’s host: admins only)`);
    const agent = await this.store.getAgent(agentId);
    if (agent === null) throw new HubError('agent_not_found', `no agent ${agentId}`, { details: { agent: agentId } });
    if (!hasInbox(agent.role)) throw new HubError('validation_failed', `${agentId} is an ${agent.role}: it receives no messages to push`);
    if (actor.self.id !== agentId && !mayManage(actor.principal.role, agent.role)) {
      throw new HubError('forbidden', `${actor.principal.id} (role ${actor.principal.role}) may not ${what} for ${agentId} (role ${agent.role})`);
    }
  }
}

function notFound(id: string): HubError {
  return new HubError('target_not_found', `no delivery target ${id} (see \`swarm targets list\`)`, { details: { target: id } });
}

/** The checks the wire schemas cannot make. */
export function checkSettings(s: TargetSettings): void {
  switch (s.kind) {
    case 'webhook': {
      let u: URL;
      try {
        u = new URL(s.url);
      } catch {
        throw new HubError('validation_failed', `'${s.url}' is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HubError('validation_failed', `a webhook URL must be http:// or https://, not ${u.protocol}`);
      if (u.username !== '' || u.password !== '') throw new HubError('validation_failed', 'a webhook URL may not carry a user or password: the hub signs each request instead');
      return;
    }
    case 'file':
      if (!isAbsolute(s.dir) || s.dir.includes('\0')) throw new HubError('validation_failed', `a file target needs an absolute directory, not '${s.dir}'`);
      if (normalize(s.dir) !== s.dir) throw new HubError('validation_failed', `write the directory plainly (no '.', '..' or '//'): '${normalize(s.dir)}'`);
      return;
    case 'tmux':
      return;
    case 'command':
      if (s.argv.length === 0 || s.argv[0] === '') throw new HubError('validation_failed', 'a command target needs a program to run');
      return;
  }
}

function checkFilter(f: TargetFilter): void {
  for (const [name, list] of [['types', f.types], ['channels', f.channels], ['senders', f.senders]] as const) {
    if (list !== null && list.length === 0) throw new HubError('validation_failed', `filter ${name}: give at least one, or leave it out for any`);
  }
}

/**
 * The deliverers' side (src/delivery/runner.ts): every target with its secret, leases and
 * settlements of its queue, and its breaker. No actor: only the hub's own processes push.
 */
export class TargetQueue {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  all(): Promise<TargetRecord[]> {
    return this.store.listTargets(null);
  }

  lease(targetId: string, owner: string, limit: number, visibilityMs: number, maxAttempts: number): Promise<TargetLease[]> {
    return this.store.leaseTargetDeliveries(targetId, owner, limit, this.now(), visibilityMs, maxAttempts);
  }

  settle(targetId: string, messageId: string, owner: string, o: TargetOutcome): Promise<boolean> {
    return this.store.settleTargetDelivery(targetId, messageId, owner, o);
  }

  noteBreaker(targetId: string, b: BreakerState): Promise<void> {
    return this.store.noteTargetBreaker(targetId, b);
  }
}
