// One agent's deliveries: list (optionally long-polling), read, acknowledge.
import type { DeliveryState, InboxItem } from '../domain/message.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
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
const ALL: DeliveryState[] = ['pending', 'delivered', 'read', 'acked'];

export class Inbox {
  constructor(
    private readonly store: Store,
    private readonly signals: InboxSignals,
    private readonly now: () => number,
  ) {}

  async list(actor: Actor, o: InboxOptions): Promise<InboxItem[]> {
    authorize(actor, 'inbox.own', 'read an inbox');
    const states = o.unread === true ? UNREAD : o.all === true ? ALL : OPEN;
    const deadline = this.now() + (o.waitMs ?? 0);
    for (;;) {
      const items = await this.store.inbox(actor.self.id, { states, limit: o.limit });
      const left = deadline - this.now();
      if (items.length > 0 || left <= 0 || o.signal?.aborted === true || this.signals.stopping) return items;
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

  async ack(actor: Actor, messageIds: string[]): Promise<{ acked: string[]; already: string[] }> {
    authorize(actor, 'inbox.own', 'acknowledge deliveries');
    if (messageIds.length === 0) throw new HubError('validation_failed', 'nothing to acknowledge: give one or more message ids');
    return this.store.ack(actor.self.id, messageIds, this.now());
  }
}
