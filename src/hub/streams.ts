// Opening a stream of one's deliveries: authorisation, presence (an open stream means online),
// and the subscription itself. WebSocket, SSE and the CLI's `watch` all come through here.
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import type { Dispatcher } from './dispatch.js';
import type { PresenceTracker } from './presence.js';
import type { Subscription } from './subscription.js';

export interface StreamOptions {
  /** Most unacknowledged deliveries at a time; capped by streams.prefetch. */
  prefetch?: number | undefined;
  /** Also receive presence changes of every agent. */
  presence?: boolean | undefined;
  /** Last event id the consumer saw (resume). */
  resumeAfter?: number | undefined;
}

export class Streams {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly presence: PresenceTracker,
    private readonly maxPrefetch: () => number,
  ) {}

  async subscribe(actor: Actor, o: StreamOptions = {}): Promise<Subscription> {
    authorize(actor, 'inbox.own', 'stream deliveries');
    const agentId = actor.self.id;
    const max = this.maxPrefetch();
    const prefetch = Math.min(o.prefetch ?? max, max);
    const sub = await this.dispatcher.subscribe(agentId, { prefetch, presence: o.presence === true, resumeAfter: o.resumeAfter }, () =>
      this.presence.streamClosed(agentId),
    );
    this.presence.streamOpened(agentId);
    return sub;
  }
}
