// Last-seen tracking. Every authenticated call marks its agent as seen; writing a row per request
// would cost more than the request itself, so sightings gather in memory and are flushed once a
// second (and at shutdown). The roster merges the unflushed sightings in, so it is never stale. An
// agent with an open stream counts as seen continuously. Presence changes are events: the tracker
// checks the roster once a second (and at once when a stream opens or closes) and reports each
// change to `onChange`.
import type { Agent, Presence, PresenceTimeouts } from '../domain/agent.js';
import { effectivePresence } from '../domain/agent.js';
import type { Store } from '../store/store.js';

/** What a presence change leads to (wired by the hub). */
export interface PresenceHooks {
  /** Each change of an agent's presence, status or mission seen here: streams that watch presence hear it. */
  onChange(a: Agent & { presence: Presence }, at: number): void;
  /** Presence changed through this process (a stream opened or closed, a status set): other processes re-check. */
  onLocalChange(): void;
}

export class PresenceTracker {
  private pending = new Map<string, number>();
  private readonly recent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly streams = new Map<string, number>();
  private readonly shown = new Map<string, string>();
  private checking = false;
  /** The sightings write under way, and the one asked for while it runs. */
  private flushing: Promise<void> | null = null;
  private flushAgain: Promise<void> | null = null;
  constructor(
    private readonly store: Store,
    private readonly timeouts: () => PresenceTimeouts,
    private readonly hooks: PresenceHooks,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 1000,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      void this.flush().catch(() => undefined);
      void this.check();
    }, this.flushMs);
    this.timer.unref();
  }

  seen(agentId: string, at: number): void {
    this.pending.set(agentId, at);
    this.recent.set(agentId, at);
  }

  /** Presence, status or mission changed through this process: other processes re-check. */
  changedHere(): void {
    this.hooks.onLocalChange();
  }

  streamOpened(agentId: string): void {
    this.streams.set(agentId, (this.streams.get(agentId) ?? 0) + 1);
    this.seen(agentId, this.now());
    void this.flush().then(() => this.hooks.onLocalChange(), () => undefined);
    void this.check();
  }

  streamClosed(agentId: string): void {
    const n = (this.streams.get(agentId) ?? 1) - 1;
    if (n <= 0) this.streams.delete(agentId);
    else this.streams.set(agentId, n);
    this.seen(agentId, this.now());
    void this.flush().then(() => this.hooks.onLocalChange(), () => undefined);
    void this.check();
  }

  openStreams(agentId: string): number {
    return this.streams.get(agentId) ?? 0;
  }

  /** Compares every agent's presence with what was last reported and reports the changes. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = this.now();
      const agents = await this.store.listAgents();
      const present = new Set<string>();
      for (const a of agents) {
        present.add(a.id);
        const v = this.view(a, now);
        const key = `${v.presence}|${v.status}|${v.mission}`;
        if (this.shown.get(a.id) === key) continue;
        const first = !this.shown.has(a.id);
        this.shown.set(a.id, key);
        if (!first) this.hooks.onChange(v, now);
      }
      for (const id of [...this.shown.keys()]) if (!present.has(id)) this.shown.delete(id);
    } catch {
      // The store is closing; the next check reports what changed.
    } finally {
      this.checking = false;
    }
  }

  lastSeen(agent: Agent): number | null {
    if (this.streams.has(agent.id)) return this.now();
    const mem = this.recent.get(agent.id);
    if (mem === undefined) return agent.lastSeenAt;
    return agent.lastSeenAt === null ? mem : Math.max(mem, agent.lastSeenAt);
  }

  /** The agent with its last-seen time brought up to date and its presence as the roster shows it. */
  view(agent: Agent, now: number): Agent & { presence: ReturnType<typeof effectivePresence> } {
    const withSeen = { ...agent, lastSeenAt: this.lastSeen(agent) };
    return { ...withSeen, presence: effectivePresence(withSeen, now, this.timeouts()) };
  }

  forget(agentId: string): void {
    this.pending.delete(agentId);
    this.recent.delete(agentId);
  }

  /**
   * Writes the sightings gathered so far. One write at a time: a flush asked for while one runs
   * waits for it and then writes what gathered meanwhile (100 streams opening at once are one or
   * two writes, not 100 concurrent updates of the same rows).
   */
  flush(): Promise<void> {
    if (this.flushing !== null) {
      this.flushAgain ??= this.flushing.catch(() => undefined).then(() => {
        this.flushAgain = null;
        return this.flush();
      });
      return this.flushAgain;
    }
    this.flushing = this.write().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    // An open stream is a continuous sign of life: record it, so other processes see it too.
    const now = this.now();
    for (const id of this.streams.keys()) this.pending.set(id, now);
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
