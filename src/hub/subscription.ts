// A subscription is one consumer's view of an agent's deliveries: an async iterable of stream
// events (nats.js-style), ended by `break`, `drain()` or `close()`, with a `closed` promise. The
// WebSocket, SSE and CLI layers all adapt this one shape. The dispatcher fills it; it never holds
// more unacknowledged deliveries than its prefetch, so a consumer that stops reading stops the
// hand-out instead of growing the hub's memory.
import { randomUUID } from 'node:crypto';
import type { Presence } from '../domain/agent.js';
import type { HubError } from '../errors.js';
import type { LeasedItem } from '../store/store.js';

export interface PresenceEvent {
  type: 'presence';
  agent: string;
  presence: Presence;
  status: Presence;
  mission: string;
  at: number;
}

export interface DeliveryEvent {
  type: 'delivery';
  item: LeasedItem;
}

export type StreamEvent = DeliveryEvent | PresenceEvent;

/** Presence events beyond this many unread close the subscription as a slow consumer. */
const MAX_QUEUED_PRESENCE = 1000;

export class Subscription implements AsyncIterable<StreamEvent> {
  readonly id = randomUUID();
  /** Message id -> lease end, for deliveries handed to this consumer and not yet acknowledged. */
  readonly inflight = new Map<string, number>();
  readonly closed: Promise<HubError | null>;
  private readonly queue: StreamEvent[] = [];
  private presenceQueued = 0;
  private waiter: ((r: IteratorResult<StreamEvent>) => void) | null = null;
  private ended = false;
  private draining = false;
  private resolveClosed!: (reason: HubError | null) => void;
  /** Why the subscription ended: null for a normal end. */
  reason: HubError | null = null;

  constructor(
    readonly agentId: string,
    readonly prefetch: number,
    readonly presence: boolean,
    private readonly onEnd: (s: Subscription) => void,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Deliveries this consumer may still be handed. */
  credit(now: number): number {
    if (this.ended || this.draining) return 0;
    for (const [id, until] of this.inflight) if (until <= now) this.inflight.delete(id);
    return Math.max(0, this.prefetch - this.inflight.size);
  }

  deliver(item: LeasedItem): void {
    if (this.ended) return;
    this.inflight.set(item.message.id, item.leaseUntil);
    this.push({ type: 'delivery', item });
  }

  presenceChanged(ev: PresenceEvent, slow: () => HubError): void {
    if (this.ended || !this.presence) return;
    if (this.presenceQueued >= MAX_QUEUED_PRESENCE) {
      this.close(slow());
      return;
    }
    this.presenceQueued += 1;
    this.push(ev);
  }

  acked(ids: Iterable<string>): boolean {
    let freed = false;
    for (const id of ids) freed = this.inflight.delete(id) || freed;
    return freed;
  }

  private push(ev: StreamEvent): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      if (ev.type === 'presence') this.presenceQueued -= 1;
      w({ value: ev, done: false });
    } else this.queue.push(ev);
  }

  /** No new hand-outs; the iterator ends once what is queued has been read. */
  drain(): Promise<HubError | null> {
    this.draining = true;
    if (this.queue.length === 0) this.close();
    return this.closed;
  }

  /** Ends now; queued events are dropped (their leases run out and they are delivered again). */
  close(reason: HubError | null = null): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    this.queue.length = 0;
    const w = this.waiter;
    this.waiter = null;
    w?.({ value: undefined, done: true });
    this.onEnd(this);
    this.resolveClosed(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return {
      next: () => {
        const ev = this.queue.shift();
        if (ev !== undefined) {
          if (ev.type === 'presence') this.presenceQueued -= 1;
          if (this.draining && this.queue.length === 0) queueMicrotask(() => this.close());
          return Promise.resolve({ value: ev, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
