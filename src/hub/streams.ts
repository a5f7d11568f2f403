// Opening a stream of one's deliveries: authorisation, presence (an open stream means online),
// the cap on streams per agent, and the subscription itself. WebSocket, SSE and the CLI's `watch`
// all come through here. Each open stream is remembered with the token it was opened with, so
// that revoking the token (or removing its agent) ends it at once, and a timer ends it when the
// token expires.
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

/** setTimeout's longest delay; a later expiry re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Open {
  sub: Subscription;
  tokenId: string | undefined;
  agents: string[];
}

export class Streams {
  private readonly open = new Set<Open>();
  /** Open streams per agent in this process (limits.streamsPerAgent). */
  private readonly perAgent = new Map<string, number>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly presence: PresenceTracker,
    private readonly maxPrefetch: () => number,
    private readonly maxPerAgent: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws too_many_streams when the agent already holds limits.streamsPerAgent streams here. */
  checkCapacity(actor: Actor): void {
    const agentId = actor.self.id;
    const n = this.perAgent.get(agentId) ?? 0;
    const max = this.maxPerAgent();
    if (n >= max) {
      throw new HubError('too_many_streams', `${agentId} already has ${n} open streams (limit ${max}, setting limits.streamsPerAgent): close one first`, {
        details: { agent: agentId, open: n },
      });
    }
  }

  async subscribe(actor: Actor, o: StreamOptions = {}): Promise<Subscription> {
    authorize(actor, 'inbox.own', 'stream deliveries');
    const expiresAt = actor.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= this.now()) throw new HubError('unauthorized', 'token expired');
    this.checkCapacity(actor);
    const agentId = actor.self.id;
    // Counted before the await, so that streams opened at the same moment cannot all slip under the cap.
    this.perAgent.set(agentId, (this.perAgent.get(agentId) ?? 0) + 1);
    const release = (): void => {
      const left = (this.perAgent.get(agentId) ?? 1) - 1;
      if (left <= 0) this.perAgent.delete(agentId);
      else this.perAgent.set(agentId, left);
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
    this.presence.streamOpened(agentId);
    const entry: Open = { sub, tokenId: actor.tokenId, agents: [...new Set([actor.principal.id, actor.self.id])] };
    this.open.add(entry);
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => {
      if (expiresAt === null) return;
      const left = expiresAt - this.now();
      if (left <= 0) return sub.close(new HubError('unauthorized', 'token expired'));
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    void sub.closed.then(() => {
      if (timer !== null) clearTimeout(timer);
      this.open.delete(entry);
      release();
    });
    return sub;
  }

  /** Tokens of open streams: after missed events, the hub checks they are still live. */
  tokenIds(): string[] {
    return [...new Set([...this.open].flatMap((e) => (e.tokenId === undefined ? [] : [e.tokenId])))];
  }

  /**
   * Ends the streams opened with these tokens, or by or for these agents (removed), with
   * `unauthorized` (WebSocket close 4001, SSE `event: close`). Returns how many ended.
   */
  revoke(tokenIds: readonly string[], agents: readonly string[] = []): number {
    const tokens = new Set(tokenIds);
    const gone = new Set(agents);
    let n = 0;
    for (const e of [...this.open]) {
      const byToken = e.tokenId !== undefined && tokens.has(e.tokenId);
      if (!byToken && !e.agents.some((a) => gone.has(a))) continue;
      e.sub.close(new HubError('unauthorized', byToken ? 'token revoked' : 'agent removed'));
      this.open.delete(e);
      n += 1;
    }
    return n;
  }
}
