// Sending and finding messages: recipient resolution, threads, idempotency, history.
import { createHash } from 'node:crypto';
import type { Role } from '../domain/agent.js';
import { AGENT_ID_PATTERN, hasInbox } from '../domain/agent.js';
import { CHANNEL_NAME_PATTERN } from '../domain/channel.js';
import { newId } from '../domain/ids.js';
import type { Message, MessageType, Priority } from '../domain/message.js';
import { BROADCAST, deriveKind, parseRecipients } from '../domain/message.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize, may } from './actor.js';
import type { Channels } from './channels.js';
import type { CommitOrder } from './commit-order.js';

export interface SendInput {
  to: string | string[];
  body: string;
  subject?: string | undefined;
  type?: MessageType | undefined;
  priority?: Priority | undefined;
  tags?: string[] | undefined;
  threadId?: string | undefined;
  replyTo?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  expiresAt?: number | undefined;
  idempotencyKey?: string | undefined;
}

export interface SendResult {
  message: Message;
  /** Agents that got a delivery. */
  recipients: string[];
  /** True when an earlier send with the same idempotency key answered; nothing new was stored. */
  duplicate: boolean;
}

export interface HistoryFilter {
  agent?: string | undefined;
  since?: number | undefined;
  type?: MessageType | undefined;
  search?: string | undefined;
  /** Only messages posted to this channel (name, with or without #). */
  channel?: string | undefined;
  limit: number;
}

export interface MessagesOptions {
  /** Most addresses one message may name (limits.recipients). */
  maxRecipients: () => number;
  /** Most agents one message may reach once `all` and channels are expanded (limits.fanOut). */
  maxFanOut: () => number;
}

/** Canonical fingerprint of what was asked, to catch an idempotency key reused for other content. */
function requestHash(sender: string, input: SendInput): string {
  const canonical = JSON.stringify([
    sender,
    parseRecipients(input.to),
    input.body,
    input.subject ?? '',
    input.type ?? 'text',
    input.priority ?? 'regular',
    input.tags ?? [],
    input.threadId ?? null,
    input.replyTo ?? null,
    input.metadata ?? {},
    input.expiresAt ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** What a send leads to, besides the rows it stores (wired by the hub). */
export interface MessagesHooks {
  /**
   * Checks a send once its recipients are known, before anything is stored; throws to refuse it
   * (the loop guard). Not called for the hub's own records of events (`internal.hubEvent`).
   */
  beforeStore(actor: Actor, recipients: ReadonlyMap<string, Role>): void;
  /** Deliveries are waiting for these agents: this process's waiters and streams, and the other processes, are told. */
  announce(agents: string[]): void;
  /** Every message stored (metrics). */
  onSent(m: Message, recipients: number): void;
}

export class Messages {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly opts: MessagesOptions,
    private readonly channels: Channels,
    private readonly hooks: MessagesHooks,
  ) {}

  /**
   * `internal.trustThread`: the hub itself posts into a thread it owns (a task's), which the
   * acting agent may not be able to see; never set from a request. `internal.hubEvent`: the hub
   * records something that already happened (a task changed state), which no limit may refuse.
   */
  async send(actor: Actor, input: SendInput, internal: { trustThread?: boolean; hubEvent?: boolean } = {}, order: CommitOrder = {}): Promise<SendResult> {
    authorize(actor, 'message.send', 'send messages');
    const sender = actor.self;
    const to = parseRecipients(input.to);
    if (to.length === 0) throw new HubError('validation_failed', 'no recipients: name an agent, a comma list, or all');
    if (to.length > this.opts.maxRecipients()) {
      throw new HubError('validation_failed', `too many recipients: ${to.length} (limit ${this.opts.maxRecipients()}, setting limits.recipients)`);
    }
    const channels: string[] = [];
    // The hub's own records of events name their few recipients themselves: no limit refuses them.
    const resolved = await this.resolve(actor, to, channels, internal.hubEvent === true ? Infinity : this.opts.maxFanOut());
    const recipients = [...resolved.keys()];
    const now = this.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now) {
      throw new HubError('validation_failed', 'expires_at is in the past', { details: { field: 'expires_at' } });
    }

    let threadId = input.threadId;
    if (threadId !== undefined && input.replyTo === undefined && internal.trustThread !== true) {
      // A thread id is the id of the thread's first message: it must exist and be visible.
      const root = await this.visible(actor, threadId);
      if (root.threadId !== threadId) {
        throw new HubError('validation_failed', `${threadId} is not a thread id; it belongs to thread ${root.threadId} (or use reply_to)`, {
          details: { field: 'thread_id' },
        });
      }
    }
    if (input.replyTo !== undefined) {
      const parent = await this.visible(actor, input.replyTo);
      if (threadId !== undefined && threadId !== parent.threadId) {
        throw new HubError('validation_failed', `thread_id ${threadId} is not the thread of reply_to ${parent.id} (${parent.threadId})`, {
          details: { field: 'thread_id' },
        });
      }
      threadId = parent.threadId;
    }
    if (internal.hubEvent !== true) this.hooks.beforeStore(actor, resolved);

    const id = newId(now);
    const message: Message = {
      id,
      sender: sender.id,
      to,
      kind: deriveKind({ sender: sender.id, senderRole: sender.role, to, recipientRoles: [...resolved.values()] }),
      type: input.type ?? 'text',
      priority: input.priority ?? 'regular',
      subject: input.subject ?? '',
      body: input.body,
      tags: input.tags ?? [],
      threadId: threadId ?? id,
      replyTo: input.replyTo ?? null,
      metadata: input.metadata ?? {},
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
    };
    // Only a send with an idempotency key is ever compared with an earlier one: the others skip the
    // hash (a SHA-256 of the whole request, a tenth of a send's CPU on the WebSocket).
    const hash = input.idempotencyKey === undefined ? null : requestHash(sender.id, input);
    const appended = this.store.appendMessage({ message, recipients, requestHash: hash, channels });
    order.queued?.();
    const r = await appended;
    if (r.status === 'duplicate') {
      if (r.requestHash !== hash) {
        throw new HubError('idempotency_conflict', `idempotency key ${input.idempotencyKey ?? ''} was already used by ${sender.id} for a different message (${r.message.id})`, {
          details: { message: r.message.id },
        });
      }
      return { message: r.message, recipients: r.recipients, duplicate: true };
    }
    this.hooks.announce(r.recipients);
    this.hooks.onSent(r.message, r.recipients.length);
    return { message: r.message, recipients: r.recipients, duplicate: false };
  }

  /**
   * Addresses to agent ids: every address must name an active agent; `all` is everyone else.
   * More than `maxFanOut` agents in all refuses the send, checked as the set grows, so that a huge
   * channel is not read to the end first.
   */
  private async resolve(actor: Actor, to: string[], channels: string[], maxFanOut: number): Promise<Map<string, Role>> {
    const out = new Map<string, Role>();
    const add = (id: string, role: Role): void => {
      out.set(id, role);
      if (out.size > maxFanOut) {
        throw new HubError('too_many_recipients', `${to.join(',')} reaches more than ${maxFanOut} agents (setting limits.fanOut): send to fewer, or to a smaller channel`, {
          details: { limit: maxFanOut },
        });
      }
    };
    for (const address of to) {
      if (address === BROADCAST) {
        authorize(actor, 'message.broadcast', 'broadcast to all');
        const before = out.size;
        for (const a of await this.store.listAgents()) if (a.id !== actor.self.id && a.role !== 'admin' && hasInbox(a.role)) add(a.id, a.role);
        if (out.size === before && to.length === 1) {
          throw new HubError('unknown_recipient', 'nobody to broadcast to: no other agent or captain is registered', { details: { recipient: BROADCAST } });
        }
        continue;
      }
      if (address.startsWith('#')) {
        const name = address.slice(1);
        const channel = CHANNEL_NAME_PATTERN.test(name) ? await this.store.getChannel(name) : null;
        if (channel === null) {
          throw new HubError('unknown_recipient', `unknown channel ${address} (see \`swarm channel list\`)`, { details: { recipient: address } });
        }
        if (!(await this.channels.mayUse(actor, name))) {
          throw new HubError('forbidden', `${actor.self.id} is not a member of ${address}: \`swarm channel join ${address}\` first`, { details: { channel: name } });
        }
        channels.push(name);
        for (const id of await this.store.channelMembers(name)) {
          if (id === actor.self.id || out.has(id)) continue;
          const agent = await this.store.getAgent(id);
          if (agent !== null && hasInbox(agent.role)) add(id, agent.role);
        }
        continue;
      }
      if (!AGENT_ID_PATTERN.test(address)) {
        throw new HubError('validation_failed', `'${address}' is not a valid recipient: use an agent id, a comma list, or all`, { details: { recipient: address } });
      }
      const agent = await this.store.getAgent(address);
      if (agent === null) {
        throw new HubError('unknown_recipient', `unknown recipient ${address}: no such agent (see \`swarm agents\`)`, { details: { recipient: address } });
      }
      if (!hasInbox(agent.role)) {
        throw new HubError('unknown_recipient', `${address} is an observer: observers have no inbox`, { details: { recipient: address } });
      }
      add(address, agent.role);
    }
    return out;
  }

  /** A message the actor may see: one it sent or received, or any for captains and admins. */
  async visible(actor: Actor, id: string): Promise<Message> {
    authorize(actor, 'history.own', 'read messages');
    const m = await this.store.getMessage(id);
    const missing = (): HubError => new HubError('message_not_found', `no message ${id} visible to ${actor.self.id}`, { details: { message: id } });
    if (m === null) throw missing();
    if (this.seesAll(actor) || m.sender === actor.self.id) return m;
    if ((await this.store.inboxItem(actor.self.id, id)) === null) throw missing();
    return m;
  }

  async get(actor: Actor, id: string): Promise<{ message: Message; recipients: string[] }> {
    const message = await this.visible(actor, id);
    return { message, recipients: await this.store.recipientsOf(id) };
  }

  /** The whole conversation a message belongs to, as far as the actor may see it. */
  async thread(actor: Actor, id: string): Promise<Message[]> {
    const m = await this.visible(actor, id);
    return this.store.thread(m.threadId, this.seesAll(actor) ? null : actor.self.id);
  }

  async history(actor: Actor, f: HistoryFilter): Promise<Message[]> {
    authorize(actor, 'history.own', 'read message history');
    if (f.channel !== undefined) {
      // A channel's members read all of its history, also what was posted before they joined.
      const c = await this.channels.must(f.channel);
      if (!(await this.channels.mayUse(actor, c.name))) {
        throw new HubError('forbidden', `${actor.self.id} is not a member of #${c.name}`, { details: { channel: c.name } });
      }
      return this.store.history({ ...f, channel: c.name, viewer: null });
    }
    return this.store.history({ viewer: this.seesAll(actor) ? null : actor.self.id, ...f });
  }

  /** Captains and admins acting as themselves see every message; anyone acting as an agent sees that agent's. */
  private seesAll(actor: Actor): boolean {
    return actor.self.id === actor.principal.id && may(actor, 'history.all');
  }
}
