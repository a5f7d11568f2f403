// The dispatcher hands deliveries to subscriptions. Anything that may make deliveries available
// (a send, an ack that frees credit, a nack, a lease running out, a dead letter retried) marks the
// agent dirty; once per event-loop turn, one store transaction leases for every subscription of
// every dirty agent. Lease ends are known when leases are made, so a timer per agent wakes the
// hand-out again exactly when an unacknowledged delivery is due for redelivery.
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import { type PresenceEvent, Subscription } from './subscription.js';

export interface DispatchOptions {
  /** Read at each hand-out: shared settings change while the hub runs. */
  visibilityMs: () => number;
  maxAttempts: () => number;
  now: () => number;
  onError: (e: unknown) => void;
  /** Told after each pass of its hand-outs: first deliveries and redeliveries (metrics). */
  onHandOut?: (first: number, redeliveries: number) => void;
}

export class Dispatcher {
  private readonly subs = new Map<string, Set<Subscription>>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Times at which delayed (nacked) or previously leased deliveries of an agent become due. */
  private readonly due = new Map<string, number[]>();
  private scheduled = false;
  private running = false;
  private closed = false;
  /** Counters for metrics and tests. */
  handedOut = 0;
  passes = 0;

  constructor(
    private readonly store: Store,
    private readonly o: DispatchOptions,
  ) {}

  get subscriptionCount(): number {
    let n = 0;
    for (const set of this.subs.values()) n += set.size;
    return n;
  }

  subscriptionsOf(agentId: string): number {
    return this.subs.get(agentId)?.size ?? 0;
  }

  /**
   * Opens a subscription. With `resumeAfter` (the last event id the consumer saw), deliveries
   * handed out after it and still leased are sent again first: they were lost in flight.
   */
  async subscribe(agentId: string, opts: { prefetch: number; presence: boolean; resumeAfter?: number | undefined }, onEnd?: (s: Subscription) => void): Promise<Subscription> {
    if (this.closed) throw new HubError('shutting_down', 'the hub is shutting down');
    const sub = new Subscription(agentId, opts.prefetch, opts.presence, (s) => {
      this.subs.get(s.agentId)?.delete(s);
      if (this.subs.get(s.agentId)?.size === 0) this.subs.delete(s.agentId);
      // Its unacknowledged leases come back when they end: the agent's other consumers, if any,
      // are woken then (acks no longer wake an agent whose consumers have credit, see `acked`).
      let end = Infinity;
      for (const until of s.inflight.values()) if (until < end) end = until;
      if (end !== Infinity) this.wakeAt(s.agentId, end);
      onEnd?.(s);
    });
    let set = this.subs.get(agentId);
    if (set === undefined) this.subs.set(agentId, (set = new Set()));
    set.add(sub);
    const now = this.o.now();
    if (opts.resumeAfter !== undefined) {
      for (const item of await this.store.adoptLeases(agentId, sub.id, opts.resumeAfter, now)) sub.deliver(item);
    }
    const wake = await this.store.nextWake(agentId, now);
    if (wake !== null) this.wakeAt(agentId, wake);
    this.notify([agentId]);
    return sub;
  }

  /** Deliveries may be available for these agents. */
  notify(agentIds: Iterable<string>): void {
    if (this.closed) return;
    let any = false;
    for (const id of agentIds) {
      if (!this.subs.has(id)) continue;
      this.dirty.add(id);
      any = true;
    }
    if (any) this.schedule();
  }

  /** Every agent with a subscription here: after a reconnect, or periodically on a shared store. */
  notifyAll(): void {
    this.notify([...this.subs.keys()]);
  }

  /**
   * Deliveries were acknowledged (by any path): free the consumers' credit. A hand-out follows only
   * if a consumer had no credit left: one that had some took everything there was at the last
   * pass, and anything new marks the agent dirty by itself (a send, a nack, a timer). In the
   * fan-out every ack commit used to start a pass over all its agents that handed out nothing.
   */
  acked(agentId: string, messageIds: string[]): void {
    const set = this.subs.get(agentId);
    if (set === undefined) return;
    let freed = false;
    for (const s of set) {
      const full = s.inflight.size >= s.prefetch;
      if (s.acked(messageIds) && full) freed = true;
    }
    if (freed) this.notify([agentId]);
  }

  presence(ev: PresenceEvent): void {
    for (const set of this.subs.values()) {
      for (const s of set) s.presenceChanged(ev, () => new HubError('slow_consumer', 'the stream fell too far behind on presence events'));
    }
  }

  /** Something of the agent becomes due at `at` (a nack delay, a lease from before this consumer). */
  wakeAt(agentId: string, at: number): void {
    if (this.closed || !this.subs.has(agentId)) return;
    const list = this.due.get(agentId) ?? [];
    list.push(at);
    this.due.set(agentId, list);
    this.rearm(agentId, this.o.now());
  }

  /**
   * Sets the agent's timer to the earliest future moment something becomes due: a lease handed out
   * here ends (known from the consumers' in-flight lists) or a delay runs out. A timer already set
   * for no later than that stays: firing early costs one pass that hands out nothing, while the
   * earliest lease moves with nearly every ack, and re-arming at every pass cost a clearTimeout and
   * a setTimeout per agent and pass in the fan-out.
   */
  private rearm(agentId: string, now: number): void {
    let next = Infinity;
    for (const s of this.subs.get(agentId) ?? []) for (const until of s.inflight.values()) if (until > now && until < next) next = until;
    const due = this.due.get(agentId);
    if (due !== undefined) {
      const list = due.filter((t) => t > now);
      if (list.length === 0) this.due.delete(agentId);
      else this.due.set(agentId, list);
      for (const t of list) if (t < next) next = t;
    }
    const existing = this.timers.get(agentId);
    if (existing !== undefined && existing.at <= next) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    this.timers.delete(agentId);
    if (next === Infinity || !this.subs.has(agentId)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(agentId);
        this.notify([agentId]);
      },
      Math.max(1, next - now + 2),
    );
    timer.unref();
    this.timers.set(agentId, { at: next, timer });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.pass());
  }

  private async pass(): Promise<void> {
    this.scheduled = false;
    if (this.running) {
      this.scheduled = true;
      setImmediate(() => void this.pass());
      return;
    }
    if (this.dirty.size === 0 || this.closed) return;
    this.running = true;
    try {
      const now = this.o.now();
      const reqs: { agentId: string; owner: string; limit: number }[] = [];
      const byOwner = new Map<string, Subscription>();
      for (const agentId of this.dirty) {
        for (const s of this.subs.get(agentId) ?? []) {
          const limit = s.credit(now);
          if (limit > 0) {
            reqs.push({ agentId, owner: s.id, limit });
            byOwner.set(s.id, s);
          }
        }
      }
      const agents = [...this.dirty];
      this.dirty.clear();
      if (reqs.length > 0) {
        this.passes += 1;
        const leased = await this.store.lease(reqs, { now, visibilityMs: this.o.visibilityMs(), maxAttempts: this.o.maxAttempts() });
        let first = 0;
        let again = 0;
        for (const [owner, items] of leased) {
          const s = byOwner.get(owner);
          if (s === undefined || items.length === 0) continue;
          this.handedOut += items.length;
          for (const item of items) {
            s.deliver(item);
            if (item.attempt > 1) again += 1;
            else first += 1;
          }
        }
        if (first + again > 0) this.o.onHandOut?.(first, again);
      }
      for (const agentId of agents) this.rearm(agentId, now);
    } catch (e) {
      this.o.onError(e);
    } finally {
      this.running = false;
    }
  }

  /** Ends every subscription (shutdown). */
  close(reason: HubError): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.due.clear();
    for (const set of [...this.subs.values()]) for (const s of [...set]) s.close(reason);
  }
}
