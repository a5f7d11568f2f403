// The scale-out store: PostgreSQL through a pool of `pg` connections, shared by any number of hub
// processes. Nothing is cached in this process (another process may revoke a token or remove an
// agent at any moment); hand-outs are numbered by a sequence and taken with FOR UPDATE SKIP LOCKED,
// so that consumers in different processes never get the same delivery. Sends and acks are
// group-committed like SQLite's: everything submitted in one turn of the event loop goes into one
// transaction on one pooled connection. Tasks are claimed with a conditional update (still open?)
// and settings are written under a table lock, for the same reason: several processes, one board.
import type pg from 'pg';
import type { Agent, Presence } from '../../domain/agent.js';
import { type AuditRecord, canonicalJson, chainNext, type NewAuditRecord } from '../../domain/audit.js';
import type { Channel } from '../../domain/channel.js';
import type { InboxItem, Message } from '../../domain/message.js';
import { OPEN_STATES, priorityRank } from '../../domain/message.js';
import { type LeaderboardRow, type Review, type Task, type TaskStatus } from '../../domain/task.js';
import { HubError } from '../../errors.js';
import { PgEvents } from './events.js';
import { DirectoryCache } from './directory.js';
import { Leadership } from './leader.js';
import { GroupCommit } from '../group-commit.js';
import {
  type AgentRow,
  type ChannelRow,
  type InboxRow,
  type MessageRow,
  messageParams,
  type ReviewRow,
  type TaskRow,
  taskParams,
  toAgent,
  toChannel,
  toInboxItem,
  toLeasedItem,
  toMessage,
  toReview,
  toTask,
  type TokenMatchRow,
  type TokenRow,
  toTokenInfo,
  toTokenMatch,
} from '../rows.js';
import { loadMigrations, loadQueryDir } from '../sql-files.js';
import { type AuditRow, toAuditRecord } from '../audit-rows.js';
import type {
  AckOptions,
  AckResult,
  AppendRequest,
  AppendResult,
  AuditQuery,
  DeadLetter,
  HistoryQuery,
  InboxQuery,
  LeasedItem,
  LeaseOptions,
  LeaseRequest,
  NewAgent,
  NewChannel,
  NewTask,
  QueueStat,
  SchemaInfo,
  SettingChange,
  Store,
  TaskPatch,
  TaskQuery,
  Template,
  TokenInfo,
  TokenMatch,
  TokenRecord,
  StoreEvent,
} from '../store.js';
import { createPool, QUERIES_DIR, redactUrl, storeError } from './connection.js';
import { migrate, MIGRATIONS_DIR, schemaInfo } from './migrate.js';
import { qualifyAll } from './qualify.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Tables live in this schema (created when missing); default: the connection's own search_path. */
  schema?: string | undefined;
  /** Most connections this process opens. */
  poolSize?: number | undefined;
  batchMax?: number | undefined;
  /**
   * Named prepared statements, parsed once per connection (default). Off behind PgBouncer in
   * transaction mode (1.18 keeps no prepared statements across transactions): every statement is
   * then parsed and planned where it runs.
   */
  prepare?: boolean | undefined;
  /**
   * Where the session features go (the LISTEN connection): straight to PostgreSQL when `url` is a
   * transaction-mode pooler, which cannot keep a LISTEN. Default: `url`.
   */
  sessionUrl?: string | undefined;
  /** Told once, within seconds of opening, if the LISTEN connection cannot open or does not hear the pool's notifications (events.ts checkListen). */
  onWarning?: ((message: string) => void) | undefined;
}

const QUERIES = loadQueryDir(QUERIES_DIR);
const LATEST = loadMigrations(MIGRATIONS_DIR).reduce((m, x) => Math.max(m, x.version), 0);

/** Columns of appendMessages, in the order of its first unnest() arrays. */
const MESSAGE_COLUMNS = [
  'id',
  'sender',
  'recipients',
  'kind',
  'type',
  'priority',
  'subject',
  'body',
  'tags',
  'thread_id',
  'reply_to',
  'metadata',
  'created_at',
  'expires_at',
  'idempotency_key',
  'request_hash',
] as const;

interface AckItem {
  agentId: string;
  messageIds: string[];
  at: number;
  strict: boolean;
}

type Queryable = pg.Pool | pg.PoolClient;
type PriorRow = MessageRow & { d_recipients: string[] };

/** PostgreSQL text cannot hold U+0000 (SQLite can): such input is refused, never half-stored. */
function refuseNul(what: string, ...values: (string | null)[]): HubError | null {
  for (const v of values) if (v !== null && v.includes('\0')) return new HubError('validation_failed', `${what} contains a NUL character (U+0000), which this store cannot keep`);
  return null;
}

function nulInMessage(m: Message): HubError | null {
  return refuseNul('the message', m.id, m.sender, m.subject, m.body, m.threadId, m.replyTo, m.idempotencyKey, ...m.tags, ...m.to);
}

interface TemplateRow {
  name: string;
  body: string;
  updated_by: string;
  updated_at: number;
}

function toTemplate(r: TemplateRow): Template {
  return { name: r.name, body: r.body, updatedBy: r.updated_by, updatedAt: r.updated_at };
}

/** A settings value as stored (JSON text; NULL: unset). */
function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

/** Expiry sweeps look this far behind the mark, for sends that committed after a sweep began. */
const EXPIRY_SLACK_MS = 60_000;
/** Exhausted leases dead-lettered per statement, and statements per sweep. */
const SWEEP_BATCH = 1000;
const SWEEP_BATCHES = 20;
/** Counter rows past which the sweeper folds them into one per agent. */
const COMPACT_AT = 1000;

type Counted = 'open' | 'acked' | 'expired' | 'dead' | 'redeliveries';

/** Changes to the queue counters made in one transaction, per agent, as addQueueCounts takes them. */
class QueueCounts {
  private readonly by = new Map<string, Record<Counted, number>>();

  add(agent: string, d: Partial<Record<Counted, number>>): void {
    if (Object.values(d).every((v) => v === 0)) return;
    let c = this.by.get(agent);
    if (c === undefined) this.by.set(agent, (c = { open: 0, acked: 0, expired: 0, dead: 0, redeliveries: 0 }));
    for (const [k, v] of Object.entries(d) as [Counted, number][]) c[k] += v;
  }

  get empty(): boolean {
    return this.by.size === 0;
  }

  params(): unknown[] {
    const rows = [...this.by];
    return [rows.map((r) => r[0]), ...(['open', 'acked', 'expired', 'dead', 'redeliveries'] as const).map((k) => rows.map((r) => r[1][k]))];
  }
}

function key(a: string, b: string): string {
  return `${a}\0${b}`;
}

function notInInbox(agentId: string, id: string): HubError {
  return new HubError('message_not_found', `no message ${id} in the inbox of ${agentId}`, { details: { message: id } });
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** Any number of hub processes share the database; events go over LISTEN/NOTIFY. */
  readonly shared = true;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private readonly acks: GroupCommit<AckItem, AckResult>;
  private readonly events: PgEvents;
  private readonly directory: DirectoryCache;
  private readonly sweeper: Leadership;
  private unlisten: (() => void) | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    batchMax: number,
    url: string,
    schema: string | null,
    /** The schema the queries name (the one given, or the connection's current schema). */
    private readonly tables: string,
    private readonly queries: Record<string, string>,
    private readonly prepare: boolean,
  ) {
    this.events = new PgEvents(url, `swarm_events${schema === null ? '' : `_${schema}`}`.slice(0, 63), async (channel, payloads) => {
      await this.pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [channel, payloads]);
    });
    this.sweeper = new Leadership(url, `swarm.sweeper:${tables}`);
    this.directory = new DirectoryCache(async () => (await this.rows<{ version: number }>('directoryVersion', []))[0]?.version ?? 0);
    this.appends = new GroupCommit({ maxBatch: batchMax, commit: (items) => this.commitAppends(items) });
    this.acks = new GroupCommit({ maxBatch: batchMax, commit: (items) => this.tx((c) => this.commitAcks(c, items)) });
  }

  /** Connects, migrates the schema (refusing a newer one with `schema_too_new`), and returns the store. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? null;
    const pool = createPool({ url: opts.url, size: opts.poolSize ?? 10 });
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new HubError('store_unavailable', `cannot connect to PostgreSQL at ${redactUrl(opts.url)}: ${(e as Error).message}`, { cause: e });
    }
    let tables: string;
    try {
      await migrate(client, schema);
      tables = schema ?? (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s ?? '';
      if (tables === '') throw new HubError('config_invalid', 'the connection has no current schema (empty search_path): set store.schema');
      client.release();
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (e instanceof HubError) throw e;
      throw new HubError('store_unavailable', `cannot prepare the schema${schema === null ? '' : ` ${schema}`}: ${(e as Error).message}`, { cause: e });
    }
    const store = new PostgresStore(pool, opts.batchMax ?? 512, opts.sessionUrl ?? opts.url, schema, tables, qualifyAll(QUERIES, tables), opts.prepare ?? true);
    await store.startDirectory();
    if (opts.onWarning !== undefined) void store.events.checkListen().then((problem) => problem !== null && opts.onWarning?.(problem));
    return store;
  }

  /** Tells the directory triggers where to notify, listens, and starts the cache's version polls. */
  private async startDirectory(): Promise<void> {
    try {
      await this.q('setEventChannel', [this.events.channel]);
    } catch (e) {
      await this.pool.end().catch(() => undefined);
      if (e instanceof HubError && e.code === 'config_invalid') throw e;
      throw new HubError('store_unavailable', `cannot prepare the directory: ${(e as Error).message}`, { cause: e });
    }
    this.unlisten = this.events.onEvent((e) => {
      if (e.type === 'directory' || e.type === 'resync') this.directory.clear();
    });
    await this.directory.start();
  }

  async publish(e: StoreEvent): Promise<void> {
    if (this.closed) return;
    try {
      await this.events.publish(e);
    } catch (err) {
      throw storeError(err);
    }
  }

  onEvent(handler: (e: StoreEvent) => void): () => void {
    return this.events.onEvent(handler);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** Runs a named query: a prepared statement (once per pooled connection) unless `prepare` is off. */
  private async q<R extends pg.QueryResultRow>(name: string, values: unknown[], on: Queryable = this.pool): Promise<pg.QueryResult<R>> {
    const text = this.queries[name];
    if (text === undefined) throw new HubError('internal', `no query named ${name}`);
    try {
      return await on.query<R>(this.prepare ? { name, text, values } : { text, values });
    } catch (e) {
      throw storeError(e);
    }
  }

  private async rows<R extends pg.QueryResultRow>(name: string, values: unknown[], on?: Queryable): Promise<R[]> {
    return (await this.q<R>(name, values, on)).rows;
  }

  /** One transaction on one pooled connection. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw new HubError('store_unavailable', `PostgreSQL is unreachable: ${(e as Error).message}`, { cause: e });
    }
    let broken = false;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw storeError(e);
    } finally {
      c.release(broken);
    }
  }

  private live(): void {
    if (this.closed) throw new HubError('store_unavailable', 'the store is closed');
  }

  async takeTokens(key: string, rate: number, burst: number, want: number, now: number): Promise<{ granted: number; remaining: number }> {
    this.live();
    const [row] = await this.rows<{ granted: number; remaining: number }>('takeTokens', [key, rate, burst, want, now]);
    return { granted: row?.granted ?? 0, remaining: row?.remaining ?? 0 };
  }

  lead(_work: 'sweeper'): Promise<boolean> {
    return this.closed ? Promise.resolve(false) : this.sweeper.lead();
  }

  async ping(): Promise<void> {
    this.live();
    try {
      await this.pool.query('SELECT 1');
    } catch (e) {
      throw storeError(e);
    }
  }

  async schema(): Promise<SchemaInfo> {
    this.live();
    try {
      return await schemaInfo(this.pool, this.tables, LATEST);
    } catch (e) {
      throw storeError(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([this.appends.drain(), this.acks.drain()]);
    this.closed = true;
    this.unlisten?.();
    this.directory.stop();
    await this.sweeper.close();
    await this.events.close();
    await this.pool.end();
  }

  // ---- agents ---------------------------------------------------------------------------------

  async createAgent(a: NewAgent): Promise<Agent> {
    this.live();
    const bad = refuseNul('the agent', a.specialty, ...a.capabilities);
    if (bad !== null) throw bad;
    const [row] = await this.rows<AgentRow>('insertAgent', [a.id, a.role, a.specialty, JSON.stringify(a.capabilities), a.createdAt]);
    this.directory.clear();
    if (row === undefined) throw new HubError('agent_exists', `agent ${a.id} already exists`, { details: { agent: a.id } });
    return toAgent(row);
  }

  async getAgent(id: string): Promise<Agent | null> {
    this.live();
    const cached = this.directory.agent(id);
    if (cached !== undefined) return cached;
    const mark = this.directory.mark();
    const [row] = await this.rows<AgentRow>('getAgent', [id]);
    const agent = row === undefined ? null : toAgent(row);
    this.directory.keepAgent(agent, mark.epoch, mark.at);
    return agent;
  }

  async listAgents(): Promise<Agent[]> {
    this.live();
    const cached = this.directory.listAgents();
    if (cached !== undefined) return cached;
    const mark = this.directory.mark();
    const agents = (await this.rows<AgentRow>('listAgents', [])).map(toAgent);
    this.directory.keepRoster(agents, mark.epoch, mark.at);
    return agents;
  }

  async removeAgent(id: string, at: number): Promise<boolean> {
    this.live();
    const [row] = await this.rows<{ n: number }>('removeAgent', [id, at]);
    this.directory.clear();
    return (row?.n ?? 0) > 0;
  }

  async setStatus(id: string, status: Presence, mission: string, at: number): Promise<Agent | null> {
    this.live();
    const bad = refuseNul('the mission', mission);
    if (bad !== null) throw bad;
    const [row] = await this.rows<AgentRow>('setStatus', [id, status, mission, at]);
    this.directory.clear();
    return row === undefined ? null : toAgent(row);
  }

  async recordSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    this.live();
    if (seen.size === 0) return;
    await this.q('recordSeen', [[...seen.keys()], [...seen.values()]]);
  }

  // ---- tokens ---------------------------------------------------------------------------------

  async createToken(t: TokenRecord): Promise<void> {
    this.live();
    const scopes = t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes);
    await this.q('insertToken', [t.id, t.agentId, t.hash, t.label, t.createdAt, t.expiresAt ?? null, scopes]);
    this.directory.clear();
  }

  async findToken(hash: Buffer): Promise<TokenMatch | null> {
    this.live();
    const cached = this.directory.token(hash);
    if (cached !== undefined) return cached;
    const mark = this.directory.mark();
    const [row] = await this.rows<TokenMatchRow & pg.QueryResultRow>('findToken', [hash]);
    const match = row === undefined ? null : toTokenMatch(row);
    this.directory.keepToken(hash, match, mark.epoch);
    return match;
  }

  async getToken(id: string): Promise<TokenInfo | null> {
    this.live();
    const [row] = await this.rows<TokenRow & pg.QueryResultRow>('getToken', [id]);
    return row === undefined ? null : toTokenInfo(row);
  }

  async listTokens(agentId: string | null): Promise<TokenInfo[]> {
    this.live();
    return (await this.rows<TokenRow & pg.QueryResultRow>('listTokens', [agentId])).map(toTokenInfo);
  }

  async revokeToken(id: string, at: number): Promise<{ agentId: string } | null> {
    this.live();
    const [row] = await this.rows<{ agent_id: string }>('revokeToken', [id, at]);
    this.directory.clear();
    return row === undefined ? null : { agentId: row.agent_id };
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.live();
    await this.q('touchToken', [id, at]);
  }

  async hasLiveToken(agentId: string): Promise<boolean> {
    this.live();
    return (await this.q('hasLiveToken', [agentId])).rowCount !== 0;
  }

  // ---- messages -------------------------------------------------------------------------------

  async appendMessage(req: AppendRequest): Promise<AppendResult> {
    this.live();
    return this.appends.submit(req);
  }

  /**
   * One group commit of sends in one statement (appendMessages): no transaction of its own, so one
   * round trip and one fsync for the whole batch. A key that inserts nothing was taken before (or
   * concurrently, by another process): those sends read the message holding the key afterwards.
   */
  private async commitAppends(items: AppendRequest[]): Promise<(AppendResult | Error)[]> {
    const out: (AppendResult | Error | undefined)[] = items.map((req) => nulInMessage(req.message) ?? refuseNul('the channels', ...(req.channels ?? [])) ?? undefined);
    // A key used twice in one batch: the first use stores, the later ones are its duplicates.
    const firstOfKey = new Map<string, number>();
    const laterUses = new Map<number, number>();
    items.forEach((req, i) => {
      const m = req.message;
      if (m.idempotencyKey === null || out[i] !== undefined) return;
      const k = key(m.sender, m.idempotencyKey);
      const first = firstOfKey.get(k);
      if (first === undefined) firstOfKey.set(k, i);
      else laterUses.set(i, first);
    });

    const fresh = items.map((_, i) => i).filter((i) => out[i] === undefined && !laterUses.has(i));
    if (fresh.length > 0) {
      const columns: unknown[][] = MESSAGE_COLUMNS.map(() => []);
      const deliveries: [string[], string[], number[]] = [[], [], []];
      const posts: [string[], string[]] = [[], []];
      for (const i of fresh) {
        const req = items[i] as AppendRequest;
        const p = messageParams(req.message, req.requestHash);
        MESSAGE_COLUMNS.forEach((col, n) => columns[n]?.push(p[col]));
        const rank = priorityRank(req.message.priority);
        for (const r of req.recipients) {
          deliveries[0].push(req.message.id);
          deliveries[1].push(r);
          deliveries[2].push(rank);
        }
        for (const ch of new Set(req.channels ?? [])) {
          posts[0].push(req.message.id);
          posts[1].push(ch);
        }
      }
      const inserted = new Set((await this.rows<{ seq: number; id: string }>('appendMessages', [...columns, ...deliveries, ...posts])).map((r) => r.id));
      const taken: number[] = [];
      for (const i of fresh) {
        const req = items[i] as AppendRequest;
        if (inserted.has(req.message.id)) out[i] = { status: 'created', message: req.message, recipients: req.recipients };
        else taken.push(i);
      }
      await this.takePrior(items, taken, out);
    }

    for (const [i, first] of laterUses) {
      const o = out[first];
      const firstReq = items[first] as AppendRequest;
      if (o === undefined || o instanceof Error) out[i] = o;
      else if (o.status === 'created') out[i] = { status: 'duplicate', message: o.message, recipients: o.recipients, requestHash: firstReq.requestHash };
      else out[i] = o;
    }
    return out.map((o) => o ?? new HubError('internal', 'a send of this batch was neither stored nor found'));
  }

  /** The sends at `indexes` found their key taken: each gets the message holding it, as a duplicate. */
  private async takePrior(items: AppendRequest[], indexes: number[], out: (AppendResult | Error | undefined)[]): Promise<void> {
    if (indexes.length === 0) return;
    const pick = indexes.map((i) => items[i]?.message as Message);
    const prior = await this.rows<PriorRow>('findIdempotent', [pick.map((m) => m.sender), pick.map((m) => m.idempotencyKey)]);
    const byKey = new Map(prior.map((r) => [key(r.sender, r.idempotency_key ?? ''), r]));
    for (const i of indexes) {
      const m = items[i]?.message as Message;
      const row = byKey.get(key(m.sender, m.idempotencyKey ?? ''));
      if (row !== undefined) out[i] = { status: 'duplicate', message: toMessage(row), recipients: row.d_recipients, requestHash: row.request_hash ?? '' };
    }
  }

  async getMessage(id: string): Promise<Message | null> {
    this.live();
    const [row] = await this.rows<MessageRow>('getMessage', [id]);
    return row === undefined ? null : toMessage(row);
  }

  async recipientsOf(messageId: string): Promise<string[]> {
    this.live();
    return (await this.rows<{ recipient: string }>('recipientsOf', [messageId])).map((r) => r.recipient);
  }

  async inbox(agentId: string, q: InboxQuery): Promise<InboxItem[]> {
    this.live();
    const query = q.states.includes('acked') ? 'inboxAll' : 'inboxOpen';
    return (await this.rows<InboxRow>(query, [agentId, [...q.states], q.limit, Date.now()])).map(toInboxItem);
  }

  async inboxItem(agentId: string, messageId: string): Promise<InboxItem | null> {
    this.live();
    const [row] = await this.rows<InboxRow>('inboxItem', [agentId, messageId]);
    return row === undefined ? null : toInboxItem(row);
  }

  async markRead(agentId: string, messageId: string, at: number): Promise<InboxItem | null> {
    this.live();
    await this.q('markRead', [agentId, messageId, at]);
    return this.inboxItem(agentId, messageId);
  }

  async ack(agentId: string, messageIds: string[], at: number, opts: AckOptions = {}): Promise<AckResult> {
    this.live();
    return this.acks.submit({ agentId, messageIds, at, strict: opts.strict === true });
  }

  /**
   * One group commit of acks: every delivery named in the batch is locked and read at once, each
   * item is decided in order (all or nothing, as if the items ran one after another), then one
   * statement acknowledges what was decided.
   */
  private async commitAcks(c: pg.PoolClient, items: AckItem[]): Promise<(AckResult | Error)[]> {
    const pairs = items.flatMap((it) => [...new Set(it.messageIds)].map((id) => [it.agentId, id] as const));
    const found = await this.rows<{ recipient: string; id: string; seq: number; state: string }>(
      'lockDeliveries',
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      c,
    );
    const byKey = new Map(found.map((r) => [key(r.recipient, r.id), r]));
    const ackedNow = new Set<string>();
    const update: { recipient: string[]; seq: number[]; at: number[]; was: string[] } = { recipient: [], seq: [], at: [], was: [] };
    const out = items.map((it): AckResult | Error => {
      const rows = [];
      for (const id of it.messageIds) {
        const row = byKey.get(key(it.agentId, id));
        if (row === undefined) return notInInbox(it.agentId, id);
        rows.push(row);
      }
      const isAcked = (r: { recipient: string; id: string; state: string }): boolean => r.state === 'acked' || ackedNow.has(key(r.recipient, r.id));
      if (it.strict) {
        const done = rows.filter(isAcked).map((r) => r.id);
        if (done.length > 0) return new HubError('already_acked', `already acknowledged: ${done.join(', ')}`, { details: { messages: done } });
      }
      const result: AckResult = { acked: [], already: [] };
      for (const row of rows) {
        if (!isAcked(row)) {
          ackedNow.add(key(row.recipient, row.id));
          update.recipient.push(row.recipient);
          update.seq.push(row.seq);
          update.at.push(it.at);
          update.was.push(row.state);
          result.acked.push(row.id);
        } else if (!result.already.includes(row.id) && !result.acked.includes(row.id)) result.already.push(row.id);
      }
      return result;
    });
    if (update.seq.length > 0) await this.q('markAcked', [update.recipient, update.seq, update.at, update.was], c);
    return out;
  }

  // ---- leases -----------------------------------------------------------------------------------

  async lease(reqs: LeaseRequest[], o: LeaseOptions): Promise<Map<string, LeasedItem[]>> {
    this.live();
    const until = o.now + o.visibilityMs;
    return this.tx(async (c) => {
      const out = new Map<string, LeasedItem[]>();
      const counts = new QueueCounts();
      for (const r of reqs) {
        const got: InboxRow[] = [];
        out.set(r.owner, []);
        if (r.limit <= 0) continue;
        // Skipped rows (dead, expired) do not count against the limit: read a little more.
        const rows = await this.rows<InboxRow>('leasable', [r.agentId, o.now, r.limit + 16], c);
        const expired: number[] = [];
        const dead: number[] = [];
        for (const row of rows) {
          if (got.length >= r.limit) break;
          if (row.expires_at !== null && row.expires_at <= o.now) expired.push(row.seq);
          else if (row.d_attempts >= o.maxAttempts) dead.push(row.seq);
          else got.push(row);
        }
        if (expired.length > 0) await this.q('expireMany', [r.agentId, expired], c);
        if (dead.length > 0) await this.q('deadMany', [r.agentId, dead, o.now], c);
        counts.add(r.agentId, { open: -(expired.length + dead.length), expired: expired.length, dead: dead.length, redeliveries: got.filter((row) => row.d_attempts >= 1).length });
        if (got.length === 0) continue;
        // Hand-out numbers follow the order the consumer receives the deliveries in.
        const handouts = (await this.rows<{ n: number }>('nextHandouts', [got.length], c)).map((h) => h.n).sort((a, b) => a - b);
        await this.q('leaseMany', [r.agentId, got.map((row) => row.seq), handouts, until, r.owner, o.now], c);
        out.set(
          r.owner,
          got.map((row, i) => {
            const pending = row.d_state === 'pending';
            return toLeasedItem({
              ...row,
              d_attempts: row.d_attempts + 1,
              d_handout: handouts[i] ?? null,
              d_lease_until: until,
              d_state: pending ? 'delivered' : row.d_state,
              d_delivered_at: row.d_delivered_at ?? o.now,
            });
          }),
        );
      }
      if (!counts.empty) await this.q('addQueueCounts', counts.params(), c);
      return out;
    });
  }

  async adoptLeases(agentId: string, owner: string, afterHandout: number, now: number): Promise<LeasedItem[]> {
    this.live();
    return (await this.rows<InboxRow>('adoptLeases', [agentId, owner, now, afterHandout])).map(toLeasedItem);
  }

  async nack(agentId: string, messageIds: string[], visibleAt: number, _now: number): Promise<string[]> {
    this.live();
    return this.tx(async (c) => {
      const unique = [...new Set(messageIds)];
      const found = await this.rows<{ id: string; seq: number; state: string }>('lockDeliveries', [unique.map(() => agentId), unique], c);
      const byId = new Map(found.map((r) => [r.id, r]));
      const missing = unique.find((id) => !byId.has(id));
      if (missing !== undefined) throw notInInbox(agentId, missing);
      const closed = found.filter((r) => !(OPEN_STATES as readonly string[]).includes(r.state));
      if (closed.length > 0) {
        throw new HubError('delivery_closed', `cannot nack ${closed.map((r) => `${r.id} (${r.state})`).join(', ')}: only open deliveries can be returned`);
      }
      await this.q('nackMany', [agentId, found.map((r) => r.seq), visibleAt], c);
      return messageIds;
    });
  }

  async releaseAllLeases(): Promise<number> {
    this.live();
    return (await this.q('releaseAll', [])).rowCount ?? 0;
  }

  /**
   * By index, in batches: deliveries of messages that expired since the last sweep (from the
   * expiry mark, less a minute for sends committed late), then leases that ended. Counters fold
   * into one row per agent when they have grown.
   */
  async sweep(now: number, maxAttempts: number): Promise<{ expired: number; dead: number }> {
    this.live();
    const mark = (await this.rows<{ at: number }>('expiryMark', []))[0]?.at ?? 0;
    const [swept] = await this.rows<{ n: number }>('sweepExpired', [now, Math.max(0, mark - EXPIRY_SLACK_MS)]);
    await this.q('setExpiryMark', [now]);
    let dead = 0;
    for (let i = 0; i < SWEEP_BATCHES; i++) {
      const n = (await this.rows<{ dead: number }>('sweepDead', [now, maxAttempts, SWEEP_BATCH]))[0]?.dead ?? 0;
      dead += n;
      if (n < SWEEP_BATCH) break;
    }
    const [rows] = await this.rows<{ n: number }>('queueCountRows', []);
    if ((rows?.n ?? 0) > COMPACT_AT) await this.q('compactQueueCounts', []);
    return { expired: swept?.n ?? 0, dead };
  }

  async nextWake(agentId: string, now: number): Promise<number | null> {
    this.live();
    const [row] = await this.rows<{ t: number | null }>('nextWake', [agentId, now]);
    return row?.t ?? null;
  }

  async queueStats(now: number): Promise<QueueStat[]> {
    this.live();
    const rows = await this.rows<{
      agent: string;
      depth: number;
      in_flight: number;
      delayed: number;
      redeliveries: number;
      dead: number;
      acked: number;
      expired: number;
    }>('queueStats', [now]);
    return rows.map((r) => ({
      agent: r.agent,
      depth: r.depth,
      inFlight: r.in_flight,
      delayed: r.delayed,
      redeliveries: r.redeliveries,
      dead: r.dead,
      acked: r.acked,
      expired: r.expired,
    }));
  }

  async deadLetters(agentId: string | null, limit: number): Promise<DeadLetter[]> {
    this.live();
    const rows = await this.rows<InboxRow & { d_dead_reason: string; d_dead_at: number }>('deadLetters', [agentId, limit]);
    return rows.map((r) => ({ item: toInboxItem(r), attempts: r.d_attempts, reason: r.d_dead_reason, deadAt: r.d_dead_at }));
  }

  async retryDead(agentId: string | null, messageIds: string[] | null, _now: number): Promise<[string, string][]> {
    this.live();
    return this.tx(async (c) => {
      const dead = await this.rows<{ recipient: string; id: string; seq: number; attempts: number }>('deadOf', [agentId], c);
      if (messageIds !== null) {
        const missing = messageIds.filter((id) => !dead.some((d) => d.id === id));
        if (missing.length > 0) {
          throw new HubError('message_not_found', `not in the dead letters${agentId === null ? '' : ` of ${agentId}`}: ${missing.join(', ')}`, { details: { messages: missing } });
        }
      }
      const chosen = messageIds === null ? dead : dead.filter((d) => messageIds.includes(d.id));
      if (chosen.length > 0) {
        await this.q('retryDead', [chosen.map((d) => d.recipient), chosen.map((d) => d.seq)], c);
        // Back to open with attempts reset: their redeliveries no longer count (as in SQLite).
        const counts = new QueueCounts();
        for (const d of chosen) counts.add(d.recipient, { open: 1, dead: -1, redeliveries: -Math.max(d.attempts - 1, 0) });
        await this.q('addQueueCounts', counts.params(), c);
      }
      return chosen.map((d): [string, string] => [d.recipient, d.id]);
    });
  }

  async thread(threadId: string, viewer: string | null): Promise<Message[]> {
    this.live();
    return (await this.rows<MessageRow>('thread', [threadId, viewer])).map(toMessage);
  }

  async history(q: HistoryQuery): Promise<Message[]> {
    this.live();
    const filters = [q.viewer, q.agent ?? null, q.since ?? null, q.type ?? null, q.limit];
    // Text without a word (only spaces) filters nothing, as in SQLite. NUL cannot reach PostgreSQL.
    const search = q.search?.replaceAll('\0', ' ');
    const words = search === undefined || search.trim() === '' ? null : search;
    const channel = q.channel ?? null;
    // A channel name with NUL cannot exist (nor reach PostgreSQL): nothing was posted there.
    if (channel?.includes('\0') === true) return [];
    let rows: MessageRow[];
    if (channel === null) rows = words === null ? await this.rows('history', filters) : await this.rows('historySearch', [...filters, words]);
    else rows = words === null ? await this.rows('historyChannel', [...filters, channel]) : await this.rows('historySearchChannel', [...filters, words, channel]);
    return rows.map(toMessage);
  }

  // ---- channels -----------------------------------------------------------------------------------

  async createChannel(c: NewChannel): Promise<Channel> {
    this.live();
    const bad = refuseNul('the channel', c.name, c.description, c.createdBy);
    if (bad !== null) throw bad;
    const created = await this.q('insertChannel', [c.name, c.description, c.autoJoin, c.createdBy, c.createdAt]);
    if (created.rowCount === 0) throw new HubError('channel_exists', `channel #${c.name} already exists`, { details: { channel: c.name } });
    const [row] = await this.rows<ChannelRow>('getChannel', [c.name]);
    if (row === undefined) throw new HubError('internal', `channel #${c.name} vanished right after it was created`);
    return toChannel(row);
  }

  async getChannel(name: string): Promise<Channel | null> {
    this.live();
    if (name.includes('\0')) return null;
    const [row] = await this.rows<ChannelRow>('getChannel', [name]);
    return row === undefined ? null : toChannel(row);
  }

  async listChannels(): Promise<Channel[]> {
    this.live();
    return (await this.rows<ChannelRow>('listChannels', [])).map(toChannel);
  }

  async joinChannel(name: string, agentId: string, at: number): Promise<boolean> {
    this.live();
    const bad = refuseNul('the channel membership', name, agentId);
    if (bad !== null) throw bad;
    return ((await this.q('joinChannel', [name, agentId, at])).rowCount ?? 0) > 0;
  }

  async leaveChannel(name: string, agentId: string): Promise<boolean> {
    this.live();
    if (refuseNul('', name, agentId) !== null) return false;
    return ((await this.q('leaveChannel', [name, agentId])).rowCount ?? 0) > 0;
  }

  async channelMembers(name: string): Promise<string[]> {
    this.live();
    if (name.includes('\0')) return [];
    return (await this.rows<{ id: string }>('channelMembers', [name])).map((r) => r.id);
  }

  async autoJoin(agentId: string, at: number): Promise<void> {
    this.live();
    await this.q('autoJoin', [agentId, at]);
  }

  // ---- tasks --------------------------------------------------------------------------------------

  async createTask(t: NewTask): Promise<Task> {
    this.live();
    const bad = refuseNul('the task', t.id, t.title, t.description, t.createdBy, ...t.capabilities);
    if (bad !== null) throw bad;
    const [row] = await this.rows<TaskRow>('insertTask', [
      t.id,
      t.title,
      t.description,
      t.points,
      t.role,
      JSON.stringify(t.capabilities),
      priorityRank(t.priority),
      t.createdBy,
      t.createdAt,
    ]);
    if (row === undefined) throw new HubError('internal', `task ${t.id} was not stored`);
    return toTask(row);
  }

  async getTask(id: string): Promise<Task | null> {
    this.live();
    if (id.includes('\0')) return null;
    const [row] = await this.rows<TaskRow>('getTask', [id]);
    return row === undefined ? null : toTask(row);
  }

  async listTasks(q: TaskQuery): Promise<Task[]> {
    this.live();
    if (q.assignee?.includes('\0') === true) return [];
    return (await this.rows<TaskRow>('listTasks', [q.status ?? null, q.assignee ?? null, q.limit])).map(toTask);
  }

  async silentClaims(silentSince: number, limit: number): Promise<Task[]> {
    this.live();
    return (await this.rows<TaskRow>('silentClaims', [silentSince, limit])).map(toTask);
  }

  /** One statement: the best open task that fits, found by index and claimed (claimNext in queries/tasks.sql). */
  async claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    this.live();
    const [row] = await this.rows<TaskRow>('claimNext', [agent.id, agent.role, JSON.stringify(agent.capabilities), at]);
    return row === undefined ? null : toTask(row);
  }

  async updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    this.live();
    const bad = refuseNul('the task update', patch.note ?? null, patch.assignee ?? null, patch.verifiedBy ?? null, patch.threadId ?? null);
    if (bad !== null) throw bad;
    if (id.includes('\0')) return null;
    return this.tx(async (c): Promise<Task | null> => {
      const [row] = await this.rows<TaskRow>('lockTask', [id], c);
      if (row === undefined) return null;
      const task = toTask(row);
      if (task.status !== expected) return null;
      if (expectedAssignee !== undefined && task.assignee !== expectedAssignee) return null;
      const next: Task = { ...task, ...patch };
      const p = taskParams(next);
      await this.q('updateTask', [p.id, p.status, p.assignee, p.claimed_at, p.done_at, p.note, p.verified_at, p.verified_by, p.thread_id], c);
      return next;
    });
  }

  // ---- reviews ------------------------------------------------------------------------------------

  async requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    this.live();
    const bad = refuseNul('the review request', taskId, by, ...reviewers);
    if (bad !== null) throw bad;
    return this.tx(async (c) => {
      await this.q('lockReviews', [taskId], c);
      const round = ((await this.rows<{ n: number }>('maxRound', [taskId], c))[0]?.n ?? 0) + 1;
      if (reviewers.length > 0) await this.q('insertReviews', [taskId, round, reviewers, by, at], c);
      return round;
    });
  }

  async reviewsOf(taskId: string): Promise<Review[]> {
    this.live();
    if (taskId.includes('\0')) return [];
    return (await this.rows<ReviewRow>('reviewsOf', [taskId])).map(toReview);
  }

  async decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    this.live();
    const bad = refuseNul('the review', taskId, reviewer, comment);
    if (bad !== null) throw bad;
    await this.tx(async (c) => {
      await this.q('lockReviews', [taskId], c);
      const round = Math.max(1, (await this.rows<{ n: number }>('maxRound', [taskId], c))[0]?.n ?? 0);
      await this.q('insertReviews', [taskId, round, [reviewer], reviewer, at], c);
      await this.q('decideReview', [taskId, round, reviewer, verdict, comment, at], c);
    });
  }

  async leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    this.live();
    const rows = await this.rows<{ agent: string; points: number; tasks_verified: number; tasks_done: number; reviews_given: number }>('leaderboard', [since]);
    return rows.map((r) => ({ agent: r.agent, points: r.points, tasksVerified: r.tasks_verified, tasksDone: r.tasks_done, reviewsGiven: r.reviews_given }));
  }

  // ---- templates ----------------------------------------------------------------------------------

  async getTemplate(name: string): Promise<Template | null> {
    this.live();
    if (name.includes('\0')) return null;
    const [row] = await this.rows<TemplateRow>('getTemplate', [name]);
    return row === undefined ? null : toTemplate(row);
  }

  async listTemplates(): Promise<Template[]> {
    this.live();
    return (await this.rows<TemplateRow>('listTemplates', [])).map(toTemplate);
  }

  async setTemplate(t: Template): Promise<void> {
    this.live();
    const bad = refuseNul('the template', t.name, t.body, t.updatedBy);
    if (bad !== null) throw bad;
    await this.q('setTemplate', [t.name, t.body, t.updatedBy, t.updatedAt]);
  }

  // ---- shared settings ----------------------------------------------------------------------------

  async currentSettings(): Promise<{ version: number; values: Map<string, unknown> }> {
    this.live();
    const rows = await this.rows<{ key: string; value: string | null; top: number }>('currentSettings', []);
    return { version: rows[0]?.top ?? 0, values: new Map(rows.map((r) => [r.key, parseJson(r.value)])) };
  }

  async settingsAt(version: number): Promise<Map<string, unknown>> {
    this.live();
    const rows = await this.rows<{ key: string; value: string | null }>('settingsAt', [version]);
    return new Map(rows.map((r) => [r.key, parseJson(r.value)]));
  }

  async recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number): Promise<SettingChange[]> {
    this.live();
    const bad = refuseNul('the setting', author, note, ...changes.map((c) => c.key));
    if (bad !== null) throw bad;
    if (changes.length === 0) return [];
    return this.tx(async (c) => {
      // Writers queue here, so that versions follow commit order and `previous` is what the
      // version before left (readers go on meanwhile).
      await this.q('lockSettings', [], c);
      const rows = await this.rows<{ key: string; value: string | null; top: number }>('currentSettings', [], c);
      const current = new Map(rows.map((r) => [r.key, r.value]));
      let version = rows[0]?.top ?? 0;
      const recorded = changes.map((ch) => {
        const value = ch.value === null ? null : JSON.stringify(ch.value);
        const previous = current.get(ch.key) ?? null;
        current.set(ch.key, value);
        version += 1;
        return { version, key: ch.key, value, previous };
      });
      await this.q(
        'insertSettings',
        [recorded.map((r) => r.version), recorded.map((r) => r.key), recorded.map((r) => r.value), recorded.map((r) => r.previous), author, note, at],
        c,
      );
      return recorded.map((r, i): SettingChange => ({
        version: r.version,
        key: r.key,
        value: changes[i]?.value,
        previous: parseJson(r.previous),
        author,
        note,
        createdAt: at,
      }));
    });
  }

  async settingsHistory(limit: number): Promise<SettingChange[]> {
    this.live();
    const rows = await this.rows<{ version: number; key: string; value: string | null; previous: string | null; author: string; note: string; created_at: number }>(
      'settingsHistory',
      [limit],
    );
    return rows.map((r) => ({
      version: r.version,
      key: r.key,
      value: parseJson(r.value),
      previous: parseJson(r.previous),
      author: r.author,
      note: r.note,
      createdAt: r.created_at,
    }));
  }

  async settingsVersion(): Promise<number> {
    this.live();
    return (await this.rows<{ n: number }>('settingsVersion', []))[0]?.n ?? 0;
  }

  // ---- re-encryption ----------------------------------------------------------------------------------

  async scanMessages(afterId: string | null, limit: number): Promise<Message[]> {
    this.live();
    return (await this.rows<MessageRow>('scanMessages', [afterId ?? '', limit])).map(toMessage);
  }

  async rewriteMessageContent(id: string, c: Pick<Message, 'subject' | 'body' | 'metadata'>): Promise<void> {
    this.live();
    // The search vector is a generated column: PostgreSQL recomputes it from the new text.
    await this.rows('rewriteMessage', [id, c.subject, c.body, JSON.stringify(c.metadata)]);
  }

  // ---- audit chain ----------------------------------------------------------------------------------

  async appendAudit(r: NewAuditRecord): Promise<AuditRecord> {
    this.live();
    const detail = canonicalJson(r.detail);
    const bad = refuseNul('the audit record', r.actor, r.action, r.target, r.requestId, detail);
    if (bad !== null) throw bad;
    return this.tx(async (c) => {
      // Every process's appenders queue here: the last record read is still the last at insert.
      await this.q('lockAudit', [], c);
      const last = (await this.rows<{ seq: number; at: number; hash: string }>('auditLast', [], c))[0] ?? null;
      const rec = chainNext(last, r);
      await this.q('insertAudit', [rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.requestId, rec.outcome, detail, rec.prevHash, rec.hash], c);
      return rec;
    });
  }

  async auditRecords(q: AuditQuery): Promise<AuditRecord[]> {
    this.live();
    return (await this.rows<AuditRow>('auditRecords', [q.since ?? null, q.actor ?? null, q.action ?? null, q.limit])).map(toAuditRecord);
  }

  async auditChain(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.live();
    return (await this.rows<AuditRow>('auditChain', [afterSeq, limit])).map(toAuditRecord);
  }
}
