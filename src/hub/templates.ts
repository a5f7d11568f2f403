// Named message templates (onboarding, wrap-up, surveys, compliance reminders): saved in the hub,
// filled per recipient. `onboarding` and `wrapup` fall back to the config's templates.* values.
import type { Agent } from '../domain/agent.js';
import { renderTemplate, TEMPLATE_NAME_PATTERN, TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../domain/template.js';
import { HubError } from '../errors.js';
import type { Store, Template } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import type { Messages, SendResult } from './messages.js';

export interface TemplateView extends Template {
  /** 'hub' when saved with `swarm template set`, 'config' for the built-in onboarding/wrap-up texts. */
  source: 'hub' | 'config';
}

export class Templates {
  constructor(
    private readonly store: Store,
    private readonly messages: Messages,
    private readonly defaultsOf: () => Record<string, string>,
    private readonly now: () => number,
  ) {}

  async list(actor: Actor): Promise<TemplateView[]> {
    authorize(actor, 'agent.list', 'see templates');
    const saved = await this.store.listTemplates();
    const out: TemplateView[] = saved.map((t) => ({ ...t, source: 'hub' }));
    for (const [name, body] of Object.entries(this.defaultsOf())) {
      if (!saved.some((t) => t.name === name)) out.push({ name, body, updatedBy: 'config', updatedAt: 0, source: 'config' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One template, for a caller (the route); `get` is the hub's own lookup. */
  async view(actor: Actor, name: string): Promise<TemplateView> {
    authorize(actor, 'agent.list', 'see templates');
    return this.get(name);
  }

  async get(name: string): Promise<TemplateView> {
    const saved = await this.store.getTemplate(name);
    if (saved !== null) return { ...saved, source: 'hub' };
    const body = this.defaultsOf()[name];
    if (body !== undefined) return { name, body, updatedBy: 'config', updatedAt: 0, source: 'config' };
    throw new HubError('template_not_found', `no template named ${name} (see \`swarm template list\`)`, { details: { template: name } });
  }

  async set(actor: Actor, name: string, body: string): Promise<TemplateView> {
    authorize(actor, 'template.manage', 'save templates');
    if (!TEMPLATE_NAME_PATTERN.test(name)) throw new HubError('validation_failed', `'${name}' is not a template name: lower-case letters, digits, . _ - (at most 50)`);
    if (body.trim() === '') throw new HubError('validation_failed', 'a template needs some text');
    const unknown = unknownPlaceholders(body);
    if (unknown.length > 0) {
      throw new HubError('validation_failed', `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `{${u}}`).join(', ')} (allowed: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
    }
    const t: Template = { name, body, updatedBy: actor.self.id, updatedAt: this.now() };
    await this.store.setTemplate(t);
    return { ...t, source: 'hub' };
  }

  async render(name: string, to: Pick<Agent, 'id' | 'role' | 'specialty' | 'mission'>, sender: string): Promise<string> {
    const t = await this.get(name);
    return renderTemplate(t.body, { agent_id: to.id, role: to.role, specialty: to.specialty, mission: to.mission, sender, date: new Date(this.now()).toISOString().slice(0, 10) });
  }

  /** One message per recipient, each filled in for that agent. `to` is an agent list or `all`. */
  async send(actor: Actor, name: string, targets: Agent[], o: { type?: SendResult['message']['type']; subject?: string; priority?: SendResult['message']['priority'] } = {}): Promise<SendResult[]> {
    const out: SendResult[] = [];
    for (const a of targets) {
      out.push(await this.messages.send(actor, { to: a.id, type: o.type ?? 'text', subject: o.subject ?? '', priority: o.priority, body: await this.render(name, a, actor.self.id) }));
    }
    return out;
  }
}
