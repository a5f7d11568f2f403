// Real stream clients for the stream tests: a WebSocket client that records every frame, an SSE
// client over fetch that parses `id:`/`event:`/`data:` lines, and small HTTP helpers for hubs that
// listen on a real port (in-process or spawned). Every wait is bounded by a timeout.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * An in-process hub listening on a free loopback port. Teardown ends the streams first (as
 * `swarm serve` does on SIGTERM): Fastify's close waits for open connections, and an SSE response
 * is one until the hub ends it.
 */
export async function startStreamApp(t: TestContext, flags: Parameters<typeof startTestApp>[1] = {}): Promise<{ h: TestApp; base: string }> {
  const hooks: (() => unknown)[] = [];
  const h = await startTestApp({ after: (fn: () => unknown) => hooks.push(fn) } as unknown as TestContext, flags);
  t.after(async () => {
    h.hub.closeStreams();
    // In the order they were added, as t.after runs them: the hub closes its store before the
    // test's schema (PostgreSQL) is dropped.
    for (const fn of hooks) await fn();
  });
  h.hub.start();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const a = h.app.server.address() as AddressInfo;
  return { h, base: `http://127.0.0.1:${a.port}` };
}

export interface HttpResult {
  status: number;
  json: any;
  body: string;
  headers: Headers;
}

/** One HTTP call over the network with a bearer token and a JSON body. */
export async function http(base: string, method: string, path: string, o: { token?: string; body?: unknown; as?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined && o.token !== '') headers.authorization = `Bearer ${o.token}`;
  if (o.as !== undefined) headers['x-swarm-as'] = o.as;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(15_000) });
  const body = await res.text();
  let json: unknown;
  try {
    json = body === '' ? undefined : JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, body, headers: res.headers };
}

/** Registers an agent (as admin) and returns its token. */
export async function addAgent(base: string, adminToken: string, id: string, role: 'agent' | 'captain' | 'admin' = 'agent'): Promise<string> {
  const r = await http(base, 'POST', '/v1/agents', { token: adminToken, body: { id, role } });
  assert.equal(r.status, 201, `register ${id}: ${r.status} ${r.body}`);
  return r.json.token as string;
}

/** Sends a message that must be accepted; returns its id. */
export async function send(base: string, token: string, body: Record<string, unknown>): Promise<string> {
  const r = await http(base, 'POST', '/v1/messages', { token, body });
  assert.equal(r.status, 201, `send: ${r.status} ${r.body}`);
  return r.json.message.id as string;
}

export async function queueOf(base: string, token: string, agent: string): Promise<any> {
  const r = await http(base, 'GET', `/v1/queue?agent=${encodeURIComponent(agent)}`, { token });
  assert.equal(r.status, 200, r.body);
  return r.json.agents.find((a: any) => a.agent === agent);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- WebSocket ---------------------------------------------------------------------------------

export type Frame = Record<string, any>;

interface Waiter {
  pred: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
}

/** A WebSocket client that keeps every text frame it receives until a test takes it. */
export class WsClient {
  /** Frames received and not yet taken, in arrival order. */
  readonly inbox: Frame[] = [];
  /** Every frame ever received, in arrival order. */
  readonly all: Frame[] = [];
  private readonly waiters = new Set<Waiter>();
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = isBinary ? { type: '<binary>' } : (JSON.parse(data.toString('utf8')) as Frame);
      this.all.push(f);
      for (const w of this.waiters) {
        if (w.pred(f)) {
          this.waiters.delete(w);
          w.resolve(f);
          return;
        }
      }
      this.inbox.push(f);
    });
    ws.on('error', () => undefined);
  }

  /** Takes the first frame (received or to come) that matches, or fails after `timeoutMs`. */
  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5000, what = 'a frame'): Promise<Frame> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`no ${what} within ${timeoutMs} ms; frames so far: ${JSON.stringify(this.all.map((f) => f.type))}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** The next frame of a type. */
  nextOf(type: string, timeoutMs = 5000, pred: (f: Frame) => boolean = () => true): Promise<Frame> {
    return this.next((f) => f.type === type && pred(f), timeoutMs, `${type} frame`);
  }

  /** Frames of a type taken out of what has arrived so far. */
  takeAll(type: string): Frame[] {
    const out: Frame[] = [];
    for (let i = 0; i < this.inbox.length; ) {
      if (this.inbox[i]?.type === type) out.push(...this.inbox.splice(i, 1));
      else i += 1;
    }
    return out;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a frame with an id and waits for the answer carrying that id. */
  async request(frame: Frame, timeoutMs = 5000): Promise<Frame> {
    this.send(frame);
    return this.next((f) => f.id === frame.id && f.type !== 'delivery', timeoutMs, `answer to ${frame.id as string}`);
  }

  /** Proves the socket is open and answering: ping, then pong with the same id. */
  async assertAlive(id = `ping-${Math.random()}`): Promise<void> {
    assert.equal(this.ws.readyState, WebSocket.OPEN, 'the socket was closed');
    const pong = await this.request({ type: 'ping', id });
    assert.equal(pong.type, 'pong');
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

export interface WsOpenOptions {
  token?: string;
  as?: string;
  query?: Record<string, string | number | boolean>;
  /** Wait for the hub's `ready` frame (default true). */
  ready?: boolean;
  maxPayload?: number;
}

function wsUrl(base: string, query: WsOpenOptions['query']): string {
  const u = new URL(`${base}/v1/ws`);
  u.protocol = 'ws:';
  for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, String(v));
  return u.toString();
}

/** Opens a WebSocket stream, closed when the test ends. Resolves once `ready` arrived. */
export async function openWs(t: TestContext, base: string, o: WsOpenOptions = {}): Promise<WsClient> {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.as !== undefined) headers['x-swarm-as'] = o.as;
  const ws = new WebSocket(wsUrl(base, o.query), { headers, ...(o.maxPayload === undefined ? {} : { maxPayload: o.maxPayload }) });
  const c = new WsClient(ws);
  t.after(() => c.close());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('WebSocket did not open within 5 s')), 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`unexpected response ${res.statusCode}`));
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  if (o.ready !== false) await c.nextOf('ready');
  return c;
}

/** An upgrade the hub must refuse: the HTTP status and problem document it answered with. */
export function refusedUpgrade(base: string, o: { token?: string; as?: string; headers?: Record<string, string>; query?: WsOpenOptions['query'] } = {}): Promise<{ status: number; contentType: string; json: any }> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.as !== undefined) headers['x-swarm-as'] = o.as;
  const ws = new WebSocket(wsUrl(base, o.query), { headers });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('the upgrade was neither accepted nor refused within 5 s'));
    }, 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), json });
      });
    });
  });
}

// ---- SSE ---------------------------------------------------------------------------------------

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

/** An SSE client over fetch: parses events as they arrive; `abort()` drops the connection. */
export class SseClient {
  readonly inbox: SseEvent[] = [];
  readonly all: SseEvent[] = [];
  private waiter: (() => void) | null = null;
  /** Resolves when the hub ends the response (or the client aborts). */
  readonly ended: Promise<void>;
  private readonly ctl = new AbortController();

  private constructor(
    readonly status: number,
    readonly contentType: string,
    body: ReadableStream<Uint8Array>,
  ) {
    this.ended = this.pump(body);
  }

  static async open(t: TestContext, base: string, o: { token?: string; as?: string; lastEventId?: string; query?: string } = {}): Promise<SseClient> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.as !== undefined) headers['x-swarm-as'] = o.as;
    if (o.lastEventId !== undefined) headers['last-event-id'] = o.lastEventId;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    const res = await fetch(`${base}/v1/stream${o.query ?? ''}`, { headers, signal: ctl.signal });
    clearTimeout(timer);
    assert.equal(res.status, 200, `SSE refused: ${res.status}`);
    assert.ok(res.body !== null);
    const c = new SseClient(res.status, res.headers.get('content-type') ?? '', res.body);
    c.ctl.signal.addEventListener('abort', () => ctl.abort());
    t.after(() => c.abort());
    return c;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.ctl.signal.aborted) break;
        buf += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const ev = parseBlock(block);
          if (ev !== null) {
            this.all.push(ev);
            this.inbox.push(ev);
          }
        }
        this.wake();
      }
    } catch {
      // aborted
    } finally {
      this.wake();
      reader.releaseLock();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Takes the next event of a type, or fails after `timeoutMs`. */
  async next(event: string, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((e) => e.event === event);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as SseEvent;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE ${event} event within ${timeoutMs} ms; events so far: ${JSON.stringify(this.all.map((e) => e.event))}`);
      await Promise.race([new Promise<void>((r) => (this.waiter = r)), sleep(Math.min(left, 100))]);
    }
  }

  /** Drops the connection; events still unread by the test are lost, as for a crashed client. */
  abort(): void {
    this.ctl.abort();
  }
}

function parseBlock(block: string): SseEvent | null {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  return { id, event, data: JSON.parse(data.join('\n')) };
}
