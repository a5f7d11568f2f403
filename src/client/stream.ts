// A WebSocket stream of the caller's deliveries, for the CLI (`swarm watch`) and tests. It
// reconnects after a dropped connection or a hub restart, resuming after the last event it saw,
// and is an async iterable of events. ack/nack/send are requests matched to replies by frame id.
import { rootCertificates } from 'node:tls';
import { WebSocket } from 'ws';
import type { SendBody, SendResponse, WireDeliveryEvent, WirePresenceEvent } from '../api/schemas.js';
import { type ErrorCode, ERROR_CODES, HubError } from '../errors.js';

export type HubEvent = WireDeliveryEvent | WirePresenceEvent;

export interface StreamOptions {
  /** The hub; several URLs (api processes of one hub) are tried in turn on each reconnect. */
  baseUrl: string | string[];
  token?: string | undefined;
  as?: string | undefined;
  presence?: boolean;
  prefetch?: number | undefined;
  /** PEM of a CA to trust for wss (besides the system's). */
  ca?: Buffer | undefined;
  /** Resume after this event (a delivery's `event_id`): see docs/streams.md, Resuming. */
  lastEventId?: number | undefined;
  /** Reconnect after a dropped connection (default true). Closes by the hub for cause end the stream. */
  reconnect?: boolean;
  /** Told of connection changes, e.g. for a "reconnecting…" note. */
  onStatus?: (status: 'connected' | 'reconnecting', detail: string) => void;
}

/** WebSocket close codes after which reconnecting cannot help. */
const FINAL_CLOSE: Record<number, ErrorCode> = { 4001: 'unauthorized', 4003: 'forbidden', 4008: 'slow_consumer' };

/**
 * Upgrades refused for now, not for good: a load balancer with no api process ready (502, 503,
 * 504) or a hub without its database or shutting down (503). Tried again like a dropped connection.
 */
const RETRY_STATUS = new Set([502, 503, 504]);

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: HubError) => void;
}

export class HubStream implements AsyncIterable<HubEvent> {
  private ws: WebSocket | null = null;
  private readonly queue: HubEvent[] = [];
  private waiter: ((r: IteratorResult<HubEvent>) => void) | null = null;
  private failure: HubError | null = null;
  private ended = false;
  private lastEventId: number | undefined;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readyWaiter: { resolve: () => void; reject: (e: HubError) => void } | null = null;
  private backoff = 250;
  /** Why the last upgrade was refused with a status worth retrying, for the error if all fail. */
  private refused = '';
  private readonly urls: string[];
  private current = 0;

  constructor(private readonly o: StreamOptions) {
    this.urls = (Array.isArray(o.baseUrl) ? o.baseUrl : [o.baseUrl]).map((u) => u.replace(/\/+$/, ''));
    if (this.urls.length === 0) throw new HubError('usage', 'no hub URL to stream from');
    this.lastEventId = o.lastEventId;
  }

  /** The last delivery event received: pass it as `lastEventId` to resume elsewhere. */
  get position(): number | undefined {
    return this.lastEventId;
  }

  /** The hub URL in use (or to be tried next). */
  get baseUrl(): string {
    return this.urls[this.current % this.urls.length] ?? '';
  }

  /** Connects and waits for the hub's `ready` frame. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
      this.open();
    });
  }

  private url(): string {
    const u = new URL(`${this.baseUrl}/v1/ws`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.o.presence) u.searchParams.set('presence', 'true');
    if (this.o.prefetch !== undefined) u.searchParams.set('prefetch', String(this.o.prefetch));
    if (this.lastEventId !== undefined) u.searchParams.set('last_event_id', String(this.lastEventId));
    return u.toString();
  }

  private open(): void {
    const headers: Record<string, string> = {};
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (this.o.as) headers['x-swarm-as'] = this.o.as;
    const ws = new WebSocket(this.url(), { headers, ...(this.o.ca === undefined ? {} : { ca: [...rootCertificates, this.o.ca.toString('utf8')] }) });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let code: ErrorCode = res.statusCode === 401 ? 'unauthorized' : res.statusCode === 403 ? 'forbidden' : 'validation_failed';
        let detail = `${res.statusCode} ${res.statusMessage ?? ''}`;
        try {
          const p = JSON.parse(text) as { code?: string; detail?: string };
          if (ERROR_CODES.includes(p.code as ErrorCode)) code = p.code as ErrorCode;
          detail = p.detail ?? detail;
        } catch {
          // not a problem document
        }
        if (RETRY_STATUS.has(res.statusCode ?? 0)) {
          // Ended the stream for good before, when a reconnect through a balancer met the moment
          // no api process was in its rotation. 'close' (1006) follows and reconnects.
          this.refused = detail;
          ws.terminate();
          return;
        }
        this.fail(new HubError(code, detail));
      });
    });
    ws.on('message', (data: Buffer) => this.frame(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    ws.on('error', () => {
      // 'close' follows and decides.
    });
    ws.on('close', (code: number, reason: Buffer) => this.closed(code, reason.toString()));
  }

  private frame(f: Record<string, unknown>): void {
    const type = f.type as string;
    if (type === 'ready') {
      this.backoff = 250;
      this.o.onStatus?.('connected', String(f.session));
      this.readyWaiter?.resolve();
      this.readyWaiter = null;
      return;
    }
    if (type === 'delivery' || type === 'presence') {
      if (type === 'delivery') this.lastEventId = Math.max(this.lastEventId ?? 0, f.event_id as number);
      return this.push(f as unknown as HubEvent);
    }
    const id = f.id as string | undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (p !== undefined && id !== undefined) {
      this.pending.delete(id);
      if (type === 'error') p.reject(new HubError(ERROR_CODES.includes(f.code as ErrorCode) ? (f.code as ErrorCode) : 'internal', String(f.detail)));
      else p.resolve(f);
    } else if (type === 'error') {
      this.readyWaiter?.reject(new HubError(f.code as ErrorCode, String(f.detail)));
      this.readyWaiter = null;
    }
  }

  private closed(code: number, reason: string): void {
    for (const p of this.pending.values()) p.reject(new HubError('hub_unreachable', 'the stream closed before the hub answered'));
    this.pending.clear();
    if (this.ended) return;
    const final = FINAL_CLOSE[code];
    if (final !== undefined) return this.fail(new HubError(final, `the hub closed the stream: ${reason || code}`));
    if (code === 1000) return this.end();
    if (this.refused !== '') {
      reason = this.refused;
      this.refused = '';
    }
    if (this.readyWaiter !== null && this.current + 1 >= this.urls.length) {
      return this.fail(new HubError('hub_unreachable', `cannot open a stream at ${this.urls.join(', ')} (${code}${reason ? ` ${reason}` : ''})`));
    }
    if (this.o.reconnect === false) return this.fail(new HubError('hub_unreachable', `the stream closed (${code}${reason ? ` ${reason}` : ''})`));
    this.current += 1; // the next URL, if there are several
    this.o.onStatus?.('reconnecting', `closed ${code}${reason ? ` ${reason}` : ''}; next ${this.baseUrl}`);
    const delay = this.urls.length > 1 && this.current % this.urls.length !== 0 ? 50 : this.backoff;
    this.backoff = Math.min(this.backoff * 2, 5000);
    setTimeout(() => {
      if (!this.ended) this.open();
    }, delay).unref();
  }

  private push(ev: HubEvent): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w({ value: ev, done: false });
    } else this.queue.push(ev);
  }

  private fail(e: HubError): void {
    if (this.ended) return;
    this.failure = e;
    this.readyWaiter?.reject(e);
    this.readyWaiter = null;
    this.end();
  }

  private end(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = null;
    w?.({ value: undefined, done: true });
  }

  private request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (ws === null || ws.readyState !== ws.OPEN) return Promise.reject(new HubError('hub_unreachable', 'the stream is not connected'));
    const id = `r${++this.nextId}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  async ack(ids: string[]): Promise<string[]> {
    return (await this.request({ type: 'ack', ids })).acked as string[];
  }

  async nack(ids: string[], delaySeconds?: number): Promise<string[]> {
    return (await this.request({ type: 'nack', ids, ...(delaySeconds === undefined ? {} : { delay_seconds: delaySeconds }) })).nacked as string[];
  }

  async send(message: SendBody): Promise<SendResponse> {
    return (await this.request({ type: 'send', message })) as unknown as SendResponse;
  }

  close(): void {
    this.ended = true;
    this.ws?.close(1000, 'bye');
    this.end();
  }

  /** The error that ended the stream, if it did not end normally. */
  get error(): HubError | null {
    return this.failure;
  }

  [Symbol.asyncIterator](): AsyncIterator<HubEvent> {
    return {
      next: () => {
        const ev = this.queue.shift();
        if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
        if (this.ended) return this.failure !== null ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = (r) => (this.failure !== null && r.done ? reject(this.failure) : resolve(r));
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
