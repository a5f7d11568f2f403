// Queue introspection and dead letters: depth, leases in flight, redeliveries, and what gave up.
import type { InboxItem } from '../domain/message.js';
import type { QueueStat, Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize, may } from './actor.js';
import type { Dispatcher } from './dispatch.js';

export interface DeadLetterView {
  item: InboxItem;
  attempts: number;
  reason: string;
  deadAt: number;
}

export class Queue {
  constructor(
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
    private readonly now: () => number,
    /** Deliveries are waiting again (dead letters retried): this process and the others are told. */
    private readonly announce: (agents: string[]) => void,
  ) {}

  /** Whose queue the actor may see: every agent (null) for captains and admins as themselves. */
  private scope(actor: Actor, agent: string | undefined): string | null {
    authorize(actor, 'inbox.own', 'see a queue');
    const all = actor.self.id === actor.principal.id && may(actor, 'queue.all');
    if (agent !== undefined && agent !== actor.self.id) {
      authorize(actor, 'queue.all', `see the queue of ${agent}`);
      return agent;
    }
    return agent ?? (all ? null : actor.self.id);
  }

  async stats(actor: Actor, agent?: string): Promise<(QueueStat & { streams: number })[]> {
    // Observers (and captains, admins) see everyone's numbers; everyone else their own queue.
    const scope = actor.self.id === actor.principal.id && may(actor, 'queue.stats') ? (agent ?? null) : this.scope(actor, agent);
    const rows = await this.store.queueStats(this.now());
    return rows.filter((r) => scope === null || r.agent === scope).map((r) => ({ ...r, streams: this.dispatcher.subscriptionsOf(r.agent) }));
  }

  async deadLetters(actor: Actor, agent: string | undefined, limit: number): Promise<DeadLetterView[]> {
    return this.store.deadLetters(this.scope(actor, agent), limit);
  }

  /** Puts dead letters back in their inboxes with a fresh attempt count. */
  async retry(actor: Actor, agent: string | undefined, ids: string[] | null): Promise<[string, string][]> {
    const revived = await this.store.retryDead(this.scope(actor, agent), ids, this.now());
    this.announce([...new Set(revived.map(([a]) => a))]);
    return revived;
  }
}
