// Last-seen tracking. Every authenticated call marks its agent as seen; writing a row per request
// would cost more than the request itself, so sightings gather in memory and are flushed once a
// second (and at shutdown). The roster merges the unflushed sightings in, so it is never stale.
import type { Agent, PresenceTimeouts } from '../domain/agent.js';
import { effectivePresence } from '../domain/agent.js';
import type { Store } from '../store/store.js';

export class PresenceTracker {
  private pending = new Map<string, number>();
  private readonly recent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    readonly timeouts: PresenceTimeouts,
    private readonly flushMs = 1000,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.flushMs);
    this.timer.unref();
  }

  seen(agentId: string, at: number): void {
    this.pending.set(agentId, at);
    this.recent.set(agentId, at);
  }

  lastSeen(agent: Agent): number | null {
    const mem = this.recent.get(agent.id);
    if (mem === undefined) return agent.lastSeenAt;
    return agent.lastSeenAt === null ? mem : Math.max(mem, agent.lastSeenAt);
  }

  /** The agent with its last-seen time brought up to date and its presence as the roster shows it. */
  view(agent: Agent, now: number): Agent & { presence: ReturnType<typeof effectivePresence> } {
    const withSeen = { ...agent, lastSeenAt: this.lastSeen(agent) };
    return { ...withSeen, presence: effectivePresence(withSeen, now, this.timeouts) };
  }

  forget(agentId: string): void {
    this.pending.delete(agentId);
    this.recent.delete(agentId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.store.recordSeen(batch);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
