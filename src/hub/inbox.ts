// One agent's deliveries: list (optionally long-polling), read, acknowledge.
import type { DeliveryState, InboxItem } from '../domain/message.js';
import { DELIVERY_STATES } from '../domain/message.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { CommitOrder } from './commit-order.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import type { Dispatcher } from './dispatch.js';
import type { InboxSignals } from './signals.js';

export interface InboxOptions {
  /** Only deliveries not yet read. */
  unread?: boolean | undefined;
  /** Include acknowledged deliveries too. */
  all?: boolean | undefined;
  limit: number;
  /** Long-poll: when nothing matches, wait this long for a new delivery. */
  waitMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

const UNREAD: DeliveryState[] = ['pending', 'delivered'];
const OPEN: DeliveryState[] = ['pending', 'delivered', 'read'];
const ALL: DeliveryState[] = [...DELIVERY_STATES];

/** What acknowledging and returning deliveries lead to (wired by the hub). */
export interface InboxHooks {
  /** Acknowledged ids: the metric, and the other processes (their streams' credit). */
  onAcked(agent: string, ids: string[], via: 'http' | 'stream'): void;
  /** Deliveries returned (nacked): the metric, and the other processes' streams of the agent. */
  onNacked(agent: string, n: number): void;
}

export class Inbox {
  constructor(
    private readonly store: Store,
    private readonly signals: InboxSignals,
    private readonly dispatcher: Dispatcher,
    private readonly now: () => number,
    private readonly hooks: InboxHooks,
  ) {}

  async list(actor: Actor, o: InboxOptions): Promise<InboxItem[]> {
    authorize(actor, 'inbox.own', 'read an inbox');
    const states = o.unread === true ? UNREAD : o.all === true ? ALL : OPEN;
    const deadline = this.now() + (o.waitMs ?? 0);
    for (;;) {
      const items = await this.store.inbox(actor.self.id, { states, limit: o.limit });
      const left = deadline - this.now();
      if (items.length > 0 || left <= 0 || o.signal?.aborted === true || this.signals.closed) return items;
      await this.signals.wait(actor.self.id, left, o.signal);
    }
  }

  async read(actor: Actor, messageId: string): Promise<InboxItem> {
    authorize(actor, 'inbox.own', 'read an inbox');
    const item = await this.store.markRead(actor.self.id, messageId, this.now());
    if (item === null) {
      throw new HubError('message_not_found', `no message ${messageId} in the inbox of ${actor.self.id}`, { details: { message: messageId } });
    }
    return item;
  }

  /** Acknowledges (all or nothing). With `strict`, acking an acknowledged delivery is an error. */
  async ack(actor: Actor, messageIds: string[], strict = false, order: CommitOrder = {}): Promise<{ acked: string[]; already: string[] }> {
    authorize(actor, 'inbox.own', 'acknowledge deliveries');
    if (messageIds.length === 0) throw new HubError('validation_failed', 'nothing to acknowledge: give one or more message ids');
    const acking = this.store.ack(actor.self.id, messageIds, this.now(), { strict });
    order.queued?.();
    const r = await acking;
    this.dispatcher.acked(actor.self.id, r.acked);
    this.hooks.onAcked(actor.self.id, r.acked, strict ? 'stream' : 'http');
    return r;
  }

  /** Returns deliveries to the inbox (ending their leases), optionally not before `delayMs`. */
  async nack(actor: Actor, messageIds: string[], delayMs: number): Promise<string[]> {
    authorize(actor, 'inbox.own', 'return deliveries');
    if (messageIds.length === 0) throw new HubError('validation_failed', 'nothing to return: give one or more message ids');
    const now = this.now();
    const ids = await this.store.nack(actor.self.id, messageIds, now + delayMs, now);
    this.dispatcher.acked(actor.self.id, ids);
    if (delayMs > 0) this.dispatcher.wakeAt(actor.self.id, now + delayMs);
    this.dispatcher.notify([actor.self.id]);
    this.hooks.onNacked(actor.self.id, ids.length);
    return ids;
  }
}
