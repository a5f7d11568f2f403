// Onboarding and wrap-up: register + token + a templated welcome; the end-of-cycle message; and
// broadcasts from any named template. And the first credential of all: the admin token the hub
// mints for itself at start, once, and reissues when asked through the store itself.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent, Role } from '../domain/agent.js';
import { hasInbox } from '../domain/agent.js';
import type { Priority } from '../domain/message.js';
import { ADMIN_TOKEN_FILE } from '../config/data-files.js';
import { HubError } from '../errors.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AgentView, type Agents, mintOwnToken, type RegisterInput } from './agents.js';
import type { SendResult } from './messages.js';
import type { Templates } from './templates.js';
import type { Store } from '../store/store.js';

export class Onboarding {
  constructor(
    private readonly agents: Agents,
    private readonly templates: Templates,
    /** Most agents `all` may reach (limits.fanOut): a broadcast sends one message to each. */
    private readonly maxFanOut: () => number = () => Infinity,
  ) {}

  async onboard(
    actor: Actor,
    input: { id: string; role: Role; specialty?: string | undefined; capabilities?: string[] | undefined; template?: string | undefined },
  ): Promise<{ agent: AgentView; token: string; message: SendResult }> {
    const name = input.template ?? 'onboarding';
    await this.templates.get(name); // refuse an unknown template before registering anyone
    const { agent, token } = await this.agents.register(actor, input);
    const [message] = await this.templates.send(actor, name, [agent], { type: 'onboarding', subject: `Welcome, ${agent.id}` });
    if (message === undefined) throw new HubError('internal', 'onboarding message not sent');
    return { agent, token, message };
  }

  /** Everyone a coordination message goes to: one agent, or every agent and captain but the sender. */
  private async targets(actor: Actor, target: string): Promise<Agent[]> {
    const roster = await this.agents.list(actor);
    const targets = target === 'all' ? roster.filter((a) => a.role !== 'admin' && hasInbox(a.role) && a.id !== actor.self.id) : roster.filter((a) => a.id === target);
    if (targets.length === 0 && target !== 'all') throw new HubError('agent_not_found', `unknown agent ${target}`, { details: { agent: target } });
    const max = this.maxFanOut();
    if (targets.length > max) {
      throw new HubError('too_many_recipients', `all reaches more than ${max} agents (setting limits.fanOut): send to fewer`, { details: { limit: max } });
    }
    return targets;
  }

  /** Sends the wrap-up message to one agent or to every agent (one message each, personalised). */
  async wrapup(actor: Actor, target: string): Promise<SendResult[]> {
    authorize(actor, 'wrapup.send', 'send the wrap-up');
    return this.templates.send(actor, 'wrapup', await this.targets(actor, target), { type: 'status', priority: 'high', subject: 'Wrap-up' });
  }

  /** `swarm broadcast --template NAME`: the template filled in for each recipient. */
  async broadcastTemplate(actor: Actor, name: string, target: string, o: { subject?: string; priority?: Priority }): Promise<SendResult[]> {
    authorize(actor, 'template.manage', 'broadcast from a template');
    await this.templates.get(name);
    const targets = await this.targets(actor, target);
    if (targets.length === 0) throw new HubError('unknown_recipient', 'nobody to broadcast to: no other agent or captain is registered');
    return this.templates.send(actor, name, targets, { subject: o.subject ?? '', priority: o.priority });
  }
}

export const ADMIN_ID = 'admin';
export { ADMIN_TOKEN_FILE };
const ADMIN: RegisterInput = { id: ADMIN_ID, role: 'admin', specialty: 'Hub administrator' };
/** The label of the token the hub mints for the admin; older versions labelled it one of the others. */
const ADMIN_LABEL = 'admin.token';
const OLDER_ADMIN_LABELS = ['initial', 'admin.token reissued'];
/** Every label the hub has given a token it minted for the admin. */
const HUB_ADMIN_LABELS = [ADMIN_LABEL, ...OLDER_ADMIN_LABELS];

export interface AdminToken {
  /** <data.dir>/admin.token */
  file: string;
  /** This start minted the admin token and wrote the file. */
  created: boolean;
  /**
   * There is no file here, and no token was minted: the admin already holds one (minted by another
   * process on a shared store, whose data directory has the file, or issued by an admin).
   */
  elsewhere: boolean;
}

/** A token file written whole or not at all, mode 0600: staged beside its place, then renamed into it. */
export interface StagedTokenFile {
  commit(): void;
  discard(): void;
}

export function stageTokenFile(file: string, token: string): StagedTokenFile {
  // A process reading the file (the CLI, another process's start) never sees half of it.
  const part = `${file}.${process.pid}.part`;
  rmSync(part, { force: true });
  writeFileSync(part, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { commit: () => renameSync(part, file), discard: () => rmSync(part, { force: true }) };
}

/**
 * First start: creates the `admin` identity and writes its token to <dataDir>/admin.token (0600),
 * which the CLI run from the same directory picks up. Minted once (Store.bootstrapToken): processes
 * starting at once on one PostgreSQL mint one token between them, and a process started later on an
 * empty data directory mints none (issue 12: each used to add a non-expiring admin token). On a
 * store this process owns (SQLite, whose data directory is the store's), a deleted file is
 * replaced: the token it held is revoked and a new one written (whoever can write the data
 * directory owns the hub anyway).
 */
export async function ensureAdminToken(hub: { agents: Agents; store: Store }, dataDir: string): Promise<AdminToken> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const hasFile = existsSync(file);
  if (hasFile && (await hub.store.getAgent(ADMIN_ID)) !== null && (await hub.store.hasLiveToken(ADMIN_ID))) return { file, created: false, elsewhere: false };
  const token = await hub.agents.bootstrap(ADMIN, ADMIN_LABEL, hub.store.shared ? [] : HUB_ADMIN_LABELS);
  if (token === null) return { file, created: false, elsewhere: !hasFile };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  stageTokenFile(file, token).commit();
  return { file, created: true, elsewhere: false };
}

/**
 * `swarm token reissue-admin`, run on the store itself by whoever holds its credentials (who owns
 * the hub anyway): when the admin token was lost, revokes every live token the hub minted for the
 * admin and stores `secret` in their place, with the audit records (actor `hub`, `detail` added),
 * in one transaction; registers the admin when no hub has yet. Tokens an admin issued for `admin`
 * (`swarm token create admin`) are kept. The new token carries the hub's own label: a later
 * reissue revokes it, as does an embedded hub replacing a deleted admin.token.
 */
export async function reissueAdminToken(store: Store, o: { secret: string; detail: Record<string, unknown>; now?: number }): Promise<{ id: string; revoked: string[]; registered: boolean }> {
  const out = await mintOwnToken(store, ADMIN, { label: ADMIN_LABEL, replacing: HUB_ADMIN_LABELS, force: true, now: o.now ?? Date.now(), secret: o.secret, detail: o.detail });
  if (!out.minted) throw new HubError('internal', 'the store minted no admin token despite force');
  return { id: out.id, revoked: out.revoked, registered: out.registered };
}
