// Events between hub processes over LISTEN/NOTIFY. One dedicated connection listens on the
// store's channel (one channel per schema, so tests sharing a database stay apart); publishing is
// a pg_notify through the pool. Every payload carries the publishing process's id, and a process
// ignores its own. When the listening connection breaks it reconnects with backoff and reports
// `resync`, so the hub re-reads what it may have missed from the store. Events published in one
// turn of the event loop are merged (the agents of every `deliveries`, the ids of every `acked` per
// agent) and leave in one statement: under load, one round trip per turn instead of one per send.
// Once, at start, a probe published through the pool must come back on the LISTEN connection
// (checkListen): a LISTEN through a pooler in transaction mode hears nothing, and says nothing.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { StoreEvent } from '../store.js';
import { redactUrl } from './connection.js';

/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7000;
/** How long checkListen waits for the LISTEN connection and for its probe. */
const CHECK_MS = 5000;

export class PgEvents {
  readonly origin = randomUUID();
  private readonly handlers = new Set<(e: StoreEvent) => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private backoff = 100;
  private connecting: Promise<void> | null = null;
  private lastError = '';
  /** Probes published by checkListen, by id: called when one comes back. */
  private readonly probes = new Map<string, () => void>();

  constructor(
    private readonly url: string,
    readonly channel: string,
    private readonly notify: (channel: string, payloads: string[]) => Promise<void>,
  ) {}

  private pending: StoreEvent[] = [];
  private flushing: Promise<void> | null = null;

  onEvent(handler: (e: StoreEvent) => void): () => void {
    this.handlers.add(handler);
    if (this.client === null && this.connecting === null) this.connecting = this.listen(false);
    return () => this.handlers.delete(handler);
  }

  private async listen(reconnect: boolean): Promise<void> {
    while (!this.closed) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, keepAlive: true });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query(`LISTEN "${this.channel}"`);
      } catch (e) {
        this.lastError = (e as Error).message;
        await client.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, this.backoff).unref());
        this.backoff = Math.min(this.backoff * 2, 5000);
        reconnect = true;
        continue;
      }
      if (this.closed) {
        // Closed while connecting: this connection would keep the process alive.
        await client.end().catch(() => undefined);
        return;
      }
      this.backoff = 100;
      this.client = client;
      this.connecting = null;
      client.on('notification', (n) => this.received(n.payload));
      client.once('end', () => {
        if (this.client === client) this.client = null;
        if (!this.closed) this.connecting = this.listen(true);
      });
      if (reconnect) this.emit({ type: 'resync' });
      return;
    }
  }

  private received(payload: string | undefined): void {
    if (payload === undefined) return;
    let msg: { o?: string; e?: StoreEvent; probe?: string };
    try {
      msg = JSON.parse(payload) as { o?: string; e?: StoreEvent; probe?: string };
    } catch {
      return;
    }
    if (typeof msg.probe === 'string') return this.probes.get(msg.probe)?.();
    if (msg.o === this.origin || msg.e === undefined) return;
    this.emit(msg.e);
  }

  private emit(e: StoreEvent): void {
    for (const h of this.handlers) {
      try {
        h(e);
      } catch {
        // a handler's failure is its own
      }
    }
  }

  /** Resolves once the event (merged with the others of this turn) was handed to PostgreSQL. */
  publish(e: StoreEvent): Promise<void> {
    this.pending.push(e);
    this.flushing ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const events = merge(this.pending);
        this.pending = [];
        this.flushing = null;
        const payloads = events.flatMap(split).map((part) => JSON.stringify({ o: this.origin, e: part }));
        this.notify(this.channel, payloads).then(resolve, reject);
      });
    });
    return this.flushing;
  }

  /**
   * Null when the LISTEN connection hears a probe published through the pool; otherwise what is
   * wrong. A LISTEN made through a pooler in transaction mode (PgBouncer) stays on whichever
   * server connection ran it and never reaches this client, and a session URL that cannot be
   * reached is retried for ever: either way every event between processes is missed, silently,
   * and only the hub's periodic re-checks find what they announced (issue 11). Null too when the
   * probe cannot be published: the pool's failures show where it is used.
   */
  async checkListen(timeoutMs = CHECK_MS): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs).unref()));
    const id = randomUUID();
    try {
      const connected = await Promise.race([(this.connecting ?? Promise.resolve()).then(() => true), timeout]);
      if (this.closed) return null;
      if (!connected || this.client === null) {
        return `the LISTEN connection to ${redactUrl(this.url)} (store.sessionDatabase, else store.database) did not open within ${timeoutMs / 1000} s${this.lastError === '' ? '' : ` (${this.lastError})`}: events between hub processes are missed until it does`;
      }
      const heard = new Promise<true>((resolve) => this.probes.set(id, () => resolve(true)));
      await this.notify(this.channel, [JSON.stringify({ o: this.origin, probe: id })]);
      if ((await Promise.race([heard, timeout])) || this.closed) return null;
      return (
        `the LISTEN connection to ${redactUrl(this.url)} did not hear a notification published through store.database within ${timeoutMs / 1000} s: ` +
        'events between hub processes are missed, and only periodic re-checks find what they announce. ' +
        'When store.database is a pooler in transaction mode (such as PgBouncer), set store.sessionDatabase (SWARM_SESSION_DATABASE) to the PostgreSQL server itself'
      );
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      this.probes.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

/** One `deliveries` event for all agents named in a turn, one `acked` per agent; the rest as they came. */
function merge(events: StoreEvent[]): StoreEvent[] {
  let agents: Set<string> | '*' | null = null;
  const acked = new Map<string, string[]>();
  const edges = new Map<string, [string, string, number]>();
  const rest: StoreEvent[] = [];
  for (const e of events) {
    if (e.type === 'deliveries') {
      if (e.agents === '*' || agents === '*') agents = '*';
      else {
        agents ??= new Set();
        for (const a of e.agents) agents.add(a);
      }
    } else if (e.type === 'edges') {
      for (const [from, to, n] of e.edges) {
        const k = `${from}\0${to}`;
        const edge = edges.get(k);
        if (edge === undefined) edges.set(k, [from, to, n]);
        else edge[2] += n;
      }
    } else if (e.type === 'acked') {
      const ids = acked.get(e.agent);
      if (ids === undefined) acked.set(e.agent, [...e.ids]);
      else ids.push(...e.ids);
    } else if (!rest.some((r) => r.type === e.type && (e.type === 'presence' || e.type === 'settings'))) rest.push(e);
  }
  const out: StoreEvent[] = [];
  if (agents !== null) out.push({ type: 'deliveries', agents: agents === '*' ? '*' : [...agents] });
  for (const [agent, ids] of acked) out.push({ type: 'acked', agent, ids });
  if (edges.size > 0) out.push({ type: 'edges', edges: [...edges.values()] });
  return [...out, ...rest];
}

/** Splits an event whose payload would be too large: agent lists become '*', id lists chunks. */
function split(e: StoreEvent): StoreEvent[] {
  if (JSON.stringify(e).length < MAX_PAYLOAD) return [e];
  if (e.type === 'deliveries') return [{ type: 'deliveries', agents: '*' }];
  if (e.type === 'acked') {
    const out: StoreEvent[] = [];
    for (let i = 0; i < e.ids.length; i += 100) out.push({ type: 'acked', agent: e.agent, ids: e.ids.slice(i, i + 100) });
    return out;
  }
  if (e.type === 'edges') {
    const out: StoreEvent[] = [];
    for (let i = 0; i < e.edges.length; i += 100) out.push({ type: 'edges', edges: e.edges.slice(i, i + 100) });
    return out;
  }
  if (e.type === 'revoked') {
    const out: StoreEvent[] = [];
    for (let i = 0; i < e.tokenIds.length; i += 100) out.push({ type: 'revoked', tokenIds: e.tokenIds.slice(i, i + 100) });
    for (let i = 0; i < (e.agents ?? []).length; i += 100) out.push({ type: 'revoked', tokenIds: [], agents: (e.agents ?? []).slice(i, i + 100) });
    return out;
  }
  return [e];
}
