// Agents of the SQLite store: registration, presence and removal, with read caches for the
// lookups every request makes (an agent by id) and every broadcast to `all` makes (the roster).
import type { Agent, Presence } from '../../domain/agent.js';
import { HubError } from '../../errors.js';
import { type AgentRow, type TokenRow, toAgent } from '../rows.js';
import type { AuditOf, BootstrapOutcome, BootstrapToken, NewAgent, Store, TokenRecord } from '../store.js';
import type { Audit } from './audit.js';
import { CACHE_MAX, type Connection } from './connection.js';
import type { Floors } from './floors.js';
import type { Tokens } from './tokens.js';
import type { WriteContext } from './writes.js';

export class Agents implements Pick<Store, 'createAgent' | 'getAgent' | 'listAgents' | 'removeAgent' | 'setStatus' | 'recordSeen' | 'bootstrapToken'> {
  /**
   * Read cache of agents by id (with tokens.ts's cache, the two lookups every request makes). This
   * process is the only writer of the file, so every write below updates or clears it; measured
   * at about 30 µs of a 164 µs send (docs/benchmarks.md).
   */
  private readonly agents = new Map<string, Agent | null>();
  /** Every agent, as listAgents answers (null: read it again). */
  private roster: Agent[] | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly tokens: Tokens,
    private readonly floors: Floors,
    private readonly audit: Audit,
  ) {}

  async createAgent(a: NewAgent, o: { token?: TokenRecord; audit?: AuditOf<Agent> } = {}): Promise<Agent> {
    this.conn.live();
    let isNew = false;
    try {
      const agent = this.conn.db
        .transaction((): Agent => {
          isNew = this.insert(a);
          if (o.token !== undefined) this.tokens.insert(o.token);
          const created = this.mustGetAgent(a.id);
          if (o.audit !== undefined) this.audit.appendIn(o.audit(created));
          return created;
        })
        .immediate();
      // No delivery can be addressed to an agent before it exists: its inbox walks start here,
      // not at the first fan-out message ever (an agent removed and registered again keeps its own).
      if (isNew) this.floors.startAt(a.id, this.conn.appliedSeq + 1);
      return agent;
    } finally {
      this.forgetAgent(a.id);
      this.tokens.forgetAll(); // unknown-token answers may now be stale
    }
  }

  /** Inserts (or revives) the agent inside the caller's transaction; true when the id is new. Throws `agent_exists`. */
  private insert(a: NewAgent): boolean {
    const isNew = this.conn.stmt('agentKnown').get(a.id) === undefined;
    const r = this.conn.stmt('insertAgent').run({
      id: a.id,
      role: a.role,
      specialty: a.specialty,
      capabilities: JSON.stringify(a.capabilities),
      created_at: a.createdAt,
    });
    if (r.changes === 0) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    return isNew;
  }

  async bootstrapToken(b: BootstrapToken, audit?: AuditOf<BootstrapOutcome>): Promise<BootstrapOutcome> {
    this.conn.live();
    let isNew = false;
    try {
      // IMMEDIATE: the write lock is held from the look at the agent's tokens to the commit.
      const out = this.conn.db
        .transaction((): BootstrapOutcome => {
          const registered = this.conn.stmt('getAgent').get(b.agent.id) === undefined;
          if (registered) isNew = this.insert(b.agent);
          const now = b.token.createdAt;
          const live = (this.conn.stmt('listTokens').all({ agent_id: b.agent.id }) as TokenRow[]).filter((t) => t.expires_at === null || t.expires_at > now);
          const replaced = live.filter((t) => b.replacing.includes(t.label));
          if (replaced.length < live.length && b.force !== true) return { minted: false, registered, revoked: [] };
          const revoked = replaced.map((t) => t.id).filter((id) => this.tokens.revoke(id, now) !== null);
          this.tokens.insert(b.token);
          const outcome = { minted: true, registered, revoked };
          if (audit !== undefined) this.audit.appendIn(audit(outcome));
          return outcome;
        })
        .immediate();
      if (isNew) this.floors.startAt(b.agent.id, this.conn.appliedSeq + 1);
      return out;
    } finally {
      this.forgetAgent(b.agent.id);
      this.tokens.forgetAll();
    }
  }

  private mustGetAgent(id: string): Agent {
    const row = this.conn.stmt('getAgent').get(id) as AgentRow | undefined;
    if (row === undefined) throw new HubError('agent_not_found', `unknown agent ${id}`);
    return toAgent(row);
  }

  async getAgent(id: string): Promise<Agent | null> {
    this.conn.live();
    const cached = this.agents.get(id);
    if (cached !== undefined) return cached === null ? null : { ...cached, capabilities: [...cached.capabilities] };
    const row = this.conn.stmt('getAgent').get(id) as AgentRow | undefined;
    const agent = row === undefined ? null : toAgent(row);
    if (this.agents.size >= CACHE_MAX) this.agents.clear();
    this.agents.set(id, agent);
    return agent === null ? null : { ...agent, capabilities: [...agent.capabilities] };
  }

  async listAgents(): Promise<Agent[]> {
    this.conn.live();
    return this.cachedRoster().map((a) => ({ ...a, capabilities: [...a.capabilities] }));
  }

  /** Every broadcast to `all` reads the roster: kept until an agent changes. */
  cachedRoster(): Agent[] {
    this.roster ??= (this.conn.stmt('listAgents').all() as AgentRow[]).map(toAgent);
    return this.roster;
  }

  /** An agent was written: the caches must not answer for it. */
  private forgetAgent(id: string): void {
    this.agents.delete(id);
    this.roster = null;
  }

  async removeAgent(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<boolean> {
    this.conn.live();
    try {
      return this.conn.db
        .transaction(() => {
          const r = this.conn.stmt('removeAgent').run({ id, at });
          if (r.changes === 0) return false;
          this.conn.stmt('revokeTokensOf').run({ id, at });
          if (audit !== undefined) this.audit.appendIn(audit({ agentId: id }));
          return true;
        })
        .immediate();
    } finally {
      this.forgetAgent(id);
      this.tokens.forgetAll();
    }
  }

  async setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null> {
    this.conn.live();
    const r = this.conn.stmt('setStatus').run({ id, status, mission, at });
    this.forgetAgent(id);
    return r.changes === 0 ? null : this.mustGetAgent(id);
  }

  async recordSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    this.conn.live();
    if (seen.size === 0) return;
    await this.conn.write('recordSeen', [...seen]);
    for (const id of seen.keys()) this.forgetAgent(id);
  }
}

/** Run by writes.ts on the writer thread: last-seen times, [agent id, at] each. */
export function recordSeen(c: WriteContext, seen: [string, number][]): null {
  const s = c.stmt('recordSeen');
  for (const [id, at] of seen) s.run({ id, at });
  return null;
}
