// Opening a stream of one's deliveries: authorisation, presence (an open stream means online),
// the cap on streams per agent, and the subscription itself. WebSocket, SSE and the CLI's `watch`
// all come through here.
import { HubError } from '../errors.js';
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
  /** Open streams per agent in this process (limits.streamsPerAgent). */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly presence: PresenceTracker,
    private readonly maxPrefetch: () => number,
    private readonly maxPerAgent: () => number,
  ) {}

  /** Throws too_many_streams when the agent already holds limits.streamsPerAgent streams here. */
  checkCapacity(actor: Actor): void {
    const agentId = actor.self.id;
    const n = this.open.get(agentId) ?? 0;
    const max = this.maxPerAgent();
    if (n >= max) {
      throw new HubError('too_many_streams', `${agentId} already has ${n} open streams (limit ${max}, setting limits.streamsPerAgent): close one first`, {
        details: { agent: agentId, open: n },
      });
    }
  }

  async subscribe(actor: Actor, o: StreamOptions = {}): Promise<Subscription> {
    authorize(actor, 'inbox.own', 'stream deliveries');
    this.checkCapacity(actor);
    const agentId = actor.self.id;
    // Counted before the await, so that streams opened at the same moment cannot all slip under the cap.
    this.open.set(agentId, (this.open.get(agentId) ?? 0) + 1);
    const release = (): void => {
      const left = (this.open.get(agentId) ?? 1) - 1;
      if (left <= 0) this.open.delete(agentId);
      else this.open.set(agentId, left);
    };
    const max = this.maxPrefetch();
    const prefetch = Math.min(o.prefetch ?? max, max);
    let sub: Subscription;
    try {
      sub = await this.dispatcher.subscribe(agentId, { prefetch, presence: o.presence === true, resumeAfter: o.resumeAfter }, () =>
        this.presence.streamClosed(agentId),
      );
    } catch (e) {
      release();
      throw e;
    }
    void sub.closed.then(release);
    this.presence.streamOpened(agentId);
    return sub;
  }
}
