// Messages of the PostgreSQL store: sends, group-committed in one statement per batch with their
// deliveries and channel posts (idempotency keys checked against every process's sends), and the
// reads: one message, its recipients, threads, history and search (re-encryption: sealing.ts).
import type { Message } from '../../domain/message.js';
import { priorityRank } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { type MessageRow, messageParams, toMessage } from '../rows.js';
import type { AppendRequest, AppendResult, HistoryQuery, Store } from '../store.js';
import type { Connection } from './connection.js';
import { key, nulInMessage, refuseNul } from './nul.js';

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
  'sealed',
] as const;

type PriorRow = MessageRow & { d_recipients: string[] };

export class Messages implements Pick<Store, 'getMessage' | 'recipientsOf' | 'thread' | 'history'> {
  constructor(private readonly conn: Connection) {}

  /**
   * One group commit of sends in one statement (appendMessages): no transaction of its own, so one
   * round trip and one fsync for the whole batch. A key that inserts nothing was taken before (or
   * concurrently, by another process): those sends read the message holding the key afterwards.
   */
  async commitAppends(items: AppendRequest[]): Promise<(AppendResult | Error)[]> {
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
      const inserted = new Set((await this.conn.rows<{ seq: number; id: string }>('appendMessages', [...columns, ...deliveries, ...posts])).map((r) => r.id));
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
    const prior = await this.conn.rows<PriorRow>('findIdempotent', [pick.map((m) => m.sender), pick.map((m) => m.idempotencyKey)]);
    const byKey = new Map(prior.map((r) => [key(r.sender, r.idempotency_key ?? ''), r]));
    for (const i of indexes) {
      const m = items[i]?.message as Message;
      const row = byKey.get(key(m.sender, m.idempotencyKey ?? ''));
      if (row !== undefined) out[i] = { status: 'duplicate', message: toMessage(row), recipients: row.d_recipients, requestHash: row.request_hash ?? '' };
    }
  }

  async getMessage(id: string): Promise<Message | null> {
    this.conn.live();
    const [row] = await this.conn.rows<MessageRow>('getMessage', [id]);
    return row === undefined ? null : toMessage(row);
  }

  async recipientsOf(messageId: string): Promise<string[]> {
    this.conn.live();
    return (await this.conn.rows<{ recipient: string }>('recipientsOf', [messageId])).map((r) => r.recipient);
  }

  async thread(threadId: string, viewer: string | null): Promise<Message[]> {
    this.conn.live();
    return (await this.conn.rows<MessageRow>('thread', [threadId, viewer])).map(toMessage);
  }

  async history(q: HistoryQuery): Promise<Message[]> {
    this.conn.live();
    const filters = [q.viewer, q.agent ?? null, q.since ?? null, q.type ?? null, q.limit];
    // Text without a word (only spaces) filters nothing, as in SQLite. NUL cannot reach PostgreSQL.
    const search = q.search?.replaceAll('\0', ' ');
    const words = search === undefined || search.trim() === '' ? null : search;
    const channel = q.channel ?? null;
    // A channel name with NUL cannot exist (nor reach PostgreSQL): nothing was posted there.
    if (channel?.includes('\0') === true) return [];
    let rows: MessageRow[];
    if (channel === null) rows = words === null ? await this.conn.rows('history', filters) : await this.conn.rows('historySearch', [...filters, words]);
    else rows = words === null ? await this.conn.rows('historyChannel', [...filters, channel]) : await this.conn.rows('historySearchChannel', [...filters, words, channel]);
    return rows.map(toMessage);
  }
}
