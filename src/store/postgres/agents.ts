// Agents of the PostgreSQL store: registration, presence and removal, and the hub's own credential
// minted once across every process. Lookups go through the directory cache (directory.ts); every
// write that changes who may do what clears it. Registration and removal carry their audit
// records in their own transaction (store.ts AuditOf).
import type pg from 'pg';
import type { Agent, Presence } from '../../domain/agent.js';
import { HubError } from '../../errors.js';
import { type AgentRow, type TokenRow, toAgent } from '../rows.js';
import type { AuditOf, BootstrapOutcome, BootstrapToken, NewAgent, Store, TokenRecord } from '../store.js';
import type { Audit } from './audit.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';
import type { Tokens } from './tokens.js';

export class Agents implements Pick<Store, 'createAgent' | 'getAgent' | 'listAgents' | 'removeAgent' | 'setStatus' | 'recordSeen' | 'bootstrapToken'> {
  constructor(
    private readonly conn: Connection,
    private readonly tokens: Tokens,
    private readonly audit: Audit,
  ) {}

  async createAgent(a: NewAgent, o: { token?: TokenRecord; audit?: AuditOf<Agent> } = {}): Promise<Agent> {
    this.conn.live();
    const bad = refuseNul('the agent', a.specialty, ...a.capabilities);
    if (bad !== null) throw bad;
    try {
      return await this.conn.tx(async (c) => {
        const agent = await this.insert(a, c);
        if (o.token !== undefined) await this.tokens.insert(o.token, c);
        if (o.audit !== undefined) await this.audit.appendIn(c, o.audit(agent));
        return agent;
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  /** Inserts (or revives) the agent on the caller's transaction. Throws `agent_exists`. */
  private async insert(a: NewAgent, c: pg.PoolClient): Promise<Agent> {
    const [row] = await this.conn.rows<AgentRow>('insertAgent', [a.id, a.role, a.specialty, JSON.stringify(a.capabilities), a.createdAt], c);
    if (row === undefined) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    return toAgent(row);
  }

  async bootstrapToken(b: BootstrapToken, audit?: AuditOf<BootstrapOutcome>): Promise<BootstrapOutcome> {
    this.conn.live();
    const bad = refuseNul('the agent', b.agent.specialty, ...b.agent.capabilities);
    if (bad !== null) throw bad;
    try {
      return await this.conn.tx(async (c) => {
        // Processes starting at once queue here; each then sees what the one before committed.
        await this.conn.q('lockTokens', [], c);
        const registered = (await this.conn.rows('getAgent', [b.agent.id], c)).length === 0;
        if (registered) await this.insert(b.agent, c);
        const now = b.token.createdAt;
        const live = (await this.conn.rows<TokenRow & pg.QueryResultRow>('listTokens', [b.agent.id], c)).filter((t) => t.expires_at === null || t.expires_at > now);
        const replaced = live.filter((t) => b.replacing.includes(t.label));
        if (replaced.length < live.length && b.force !== true) return { minted: false, registered, revoked: [] };
        const revoked: string[] = [];
        for (const t of replaced) if ((await this.tokens.revoke(t.id, now, c)) !== null) revoked.push(t.id);
        await this.tokens.insert(b.token, c);
        const outcome = { minted: true, registered, revoked };
        if (audit !== undefined) await this.audit.appendIn(c, audit(outcome));
        return outcome;
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  async getAgent(id: string): Promise<Agent | null> {
    this.conn.live();
    const cached = this.conn.directory.agent(id);
    if (cached !== undefined) return cached;
    const mark = this.conn.directory.mark();
    const [row] = await this.conn.rows<AgentRow>('getAgent', [id]);
    const agent = row === undefined ? null : toAgent(row);
    this.conn.directory.keepAgent(agent, mark.epoch, mark.at);
    return agent;
  }

  async listAgents(): Promise<Agent[]> {
    this.conn.live();
    const cached = this.conn.directory.listAgents();
    if (cached !== undefined) return cached;
    const mark = this.conn.directory.mark();
    const agents = (await this.conn.rows<AgentRow>('listAgents', [])).map(toAgent);
    this.conn.directory.keepRoster(agents, mark.epoch, mark.at);
    return agents;
  }

  async removeAgent(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<boolean> {
    this.conn.live();
    try {
      return await this.conn.tx(async (c) => {
        const [row] = await this.conn.rows<{ n: number }>('removeAgent', [id, at], c);
        if ((row?.n ?? 0) === 0) return false;
        if (audit !== undefined) await this.audit.appendIn(c, audit({ agentId: id }));
        return true;
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  async setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null> {
    this.conn.live();
    const bad = refuseNul('the mission', mission);
    if (bad !== null) throw bad;
    const [row] = await this.conn.rows<AgentRow>('setStatus', [id, status, mission, at]);
    this.conn.directory.clear();
    return row === undefined ? null : toAgent(row);
  }

  async recordSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    this.conn.live();
    if (seen.size === 0) return;
    await this.conn.q('recordSeen', [[...seen.keys()], [...seen.values()]]);
  }
}
