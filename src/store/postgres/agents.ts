// Agents of the PostgreSQL store: registration, presence and removal. Lookups go through the
// directory cache (directory.ts); every write that changes who may do what clears it.
import type { Agent, Presence } from '../../domain/agent.js';
import { HubError } from '../../errors.js';
import { type AgentRow, toAgent } from '../rows.js';
import type { NewAgent, Store } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

export class Agents implements Pick<Store, 'createAgent' | 'getAgent' | 'listAgents' | 'removeAgent' | 'setStatus' | 'recordSeen'> {
  constructor(private readonly conn: Connection) {}

  async createAgent(a: NewAgent): Promise<Agent> {
    this.conn.live();
    const bad = refuseNul('the agent', a.specialty, ...a.capabilities);
    if (bad !== null) throw bad;
    const [row] = await this.conn.rows<AgentRow>('insertAgent', [a.id, a.role, a.specialty, JSON.stringify(a.capabilities), a.createdAt]);
    this.conn.directory.clear();
    if (row === undefined) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    return toAgent(row);
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

  async removeAgent(id: string, at: number): Promise<boolean> {
    this.conn.live();
    const [row] = await this.conn.rows<{ n: number }>('removeAgent', [id, at]);
    this.conn.directory.clear();
    return (row?.n ?? 0) > 0;
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
