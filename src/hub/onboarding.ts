// Onboarding and wrap-up: register + token + a templated welcome; the end-of-cycle message.
import type { Agent, Role } from '../domain/agent.js';
import { HubError } from '../errors.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import type { AgentView, Agents } from './agents.js';
import type { Messages, SendResult } from './messages.js';

export interface Templates {
  onboarding: string;
  wrapup: string;
}

/** Fills {agent_id}, {role} and {specialty}. Unknown placeholders were refused when config loaded. */
export function renderTemplate(template: string, agent: Pick<Agent, 'id' | 'role' | 'specialty'>): string {
  const values: Record<string, string> = { agent_id: agent.id, role: agent.role, specialty: agent.specialty };
  return template.replace(/\{(agent_id|role|specialty)\}/g, (_, k: string) => values[k] ?? '');
}

export class Onboarding {
  constructor(
    private readonly agents: Agents,
    private readonly messages: Messages,
    private readonly templates: Templates,
  ) {}

  async onboard(
    actor: Actor,
    input: { id: string; role: Role; specialty?: string | undefined; capabilities?: string[] | undefined },
  ): Promise<{ agent: AgentView; token: string; message: SendResult }> {
    const { agent, token } = await this.agents.register(actor, input);
    const message = await this.messages.send(actor, {
      to: agent.id,
      type: 'onboarding',
      subject: `Welcome, ${agent.id}`,
      body: renderTemplate(this.templates.onboarding, agent),
    });
    return { agent, token, message };
  }

  /** Sends the wrap-up message to one agent or to every agent (one message each, personalised). */
  async wrapup(actor: Actor, target: string): Promise<SendResult[]> {
    authorize(actor, 'wrapup.send', 'send the wrap-up');
    const roster = await this.agents.list(actor);
    const targets = target === 'all' ? roster.filter((a) => a.role !== 'admin' && a.id !== actor.self.id) : roster.filter((a) => a.id === target);
    if (targets.length === 0) {
      if (target === 'all') return [];
      throw new HubError('agent_not_found', `unknown agent ${target}`, { details: { agent: target } });
    }
    const out: SendResult[] = [];
    for (const a of targets) {
      out.push(await this.messages.send(actor, { to: a.id, type: 'status', priority: 'high', subject: 'Wrap-up', body: renderTemplate(this.templates.wrapup, a) }));
    }
    return out;
  }
}
