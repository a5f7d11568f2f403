// Agents of the SQLite store: registration, presence and removal, with read caches for the
// lookups every request makes (an agent by id) and every broadcast to `all` makes (the roster).
import type { Agent, Presence } from '../../domain/agent.js';
import { HubError } from '../../errors.js';
import { type AgentRow, toAgent } from '../rows.js';
import type { NewAgent, Store } from '../store.js';
import { CACHE_MAX, type Connection } from './connection.js';
import type { Floors } from './floors.js';
import type { Tokens } from './tokens.js';
import type { WriteContext } from './writes.js';

export class Agents implements Pick<Store, 'createAgent' | 'getAgent' | 'listAgents' | 'removeAgent' | 'setStatus' | 'recordSeen'> {
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
  ) {}

  async createAgent(a: NewAgent): Promise<Agent> {
    this.conn.live();
    const isNew = this.conn.stmt('agentKnown').get(a.id) === undefined;
    const r = this.conn.stmt('insertAgent').run({
      id: a.id,
      role: a.role,
      specialty: a.specialty,
      capabilities: JSON.stringify(a.capabilities),
      created_at: a.createdAt,
    });
    if (r.changes === 0) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    // No delivery can be addressed to an agent before it exists: its inbox walks start here,
    // not at the first fan-out message ever (an agent removed and registered again keeps its own).
    if (isNew) this.floors.startAt(a.id, this.conn.appliedSeq + 1);
    this.forgetAgent(a.id);
    this.tokens.forgetAll(); // unknown-token answers may now be stale
    return this.mustGetAgent(a.id);
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

  async removeAgent(id: string, at: number): Promise<boolean> {
    this.conn.live();
    return this.conn.db.transaction(() => {
      const r = this.conn.stmt('removeAgent').run({ id, at });
      this.forgetAgent(id);
      this.tokens.forgetAll();
      if (r.changes === 0) return false;
      this.conn.stmt('revokeTokensOf').run({ id, at });
      return true;
    }).immediate();
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
