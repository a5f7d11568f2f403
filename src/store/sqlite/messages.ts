// Messages of the SQLite store: the commit step of the sends' group commit and what follows it in
// memory (new deliveries join the hand-out queues), reads, threads, history with full-text search.
// The scan and rewrite for re-encryption are in sealing.ts.
import type { Message } from '../../domain/message.js';
import { priorityRank } from '../../domain/message.js';
import { type MessageRow, toMessage } from '../rows.js';
import type { AppendRequest, AppendResult, HistoryQuery, Store } from '../store.js';
import type { Agents } from './agents.js';
import { type AppendDone, type AppendItem, fromErrorData, isErrorData, type Outcome } from './commits.js';
import type { Connection } from './connection.js';
import type { AgentQueue } from './lease-book.js';
import { newEntry, PAGE, READY_MAX } from './leases.js';
import type { RecentMessages } from './recent-messages.js';

/** Fewest recipients of a fan-out message (`isFanOut`): below it, the inbox index costs little. */
const FANOUT_MIN = 16;

/** FTS5 query from user text: each word quoted, so operators and punctuation are taken literally. */
export function ftsQuery(text: string): string | null {
  // NUL splits words too: SQLite would end the query string there ("unterminated string").
  const words = text.split(/[\s\0]+/).filter((w) => w !== '');
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' ');
}

export class Messages implements Pick<Store, 'getMessage' | 'recipientsOf' | 'thread' | 'history'> {
  private readonly queues: Map<string, AgentQueue>;
  private readonly fanOutMin: number;

  constructor(
    private readonly conn: Connection,
    private readonly agents: Agents,
    private readonly recent: RecentMessages,
    fanOutMin: number | undefined,
  ) {
    this.queues = conn.queues;
    this.fanOutMin = fanOutMin ?? FANOUT_MIN;
  }

  /** One group commit of sends (commits.ts), on the writer thread when there is one. */
  commitAppends(reqs: AppendRequest[]): (AppendResult | Error)[] | Promise<(AppendResult | Error)[]> {
    const items: AppendItem[] = reqs.map((r) => ({ ...r, fanout: this.isFanOut(r.recipients.length) }));
    const out = this.conn.commit<Outcome<AppendDone>>('appends', items, () => this.conn.commits.appends(items));
    return out instanceof Promise ? out.then((o) => this.applyAppends(items, o)) : this.applyAppends(items, out);
  }

  /**
   * A message to this many recipients is a fan-out message (migration 0009): its deliveries stay
   * out of the per-agent inbox index, and every agent's inbox walk looks at it. Worth it when it
   * reaches at least half the roster, so that the walks mostly find a delivery of their agent.
   */
  private isFanOut(recipients: number): boolean {
    return recipients >= this.fanOutMin && recipients * 2 >= this.agents.cachedRoster().length;
  }

  /** Committed: the new deliveries join the hand-out queues that cover them. */
  private applyAppends(items: AppendItem[], outcomes: Outcome<AppendDone>[]): (AppendResult | Error)[] {
    return outcomes.map((o, i): AppendResult | Error => {
      const req = items[i] as AppendItem;
      if (isErrorData(o)) return fromErrorData(o);
      if (o.status === 'duplicate') return { status: 'duplicate', message: toMessage(o.row), recipients: o.recipients, requestHash: o.requestHash };
      const m = req.message;
      this.recent.remember(o.seq, m);
      if (o.seq > this.conn.appliedSeq) this.conn.appliedSeq = o.seq;
      const rank = priorityRank(m.priority);
      for (const r of req.recipients) {
        const q = this.queues.get(r);
        if (q === undefined || !q.covers(rank, o.seq)) continue;
        q.insert(newEntry(o.seq, rank, req.fanout, m.id, m.expiresAt));
        if (q.readyCount() > READY_MAX) q.trim(PAGE);
      }
      return { status: 'created', message: m, recipients: req.recipients };
    });
  }

  async getMessage(id: string): Promise<Message | null> {
    this.conn.live();
    const row = this.conn.stmt('getMessage').get(id) as MessageRow | undefined;
    return row === undefined ? null : toMessage(row);
  }

  async recipientsOf(messageId: string): Promise<string[]> {
    this.conn.live();
    return (this.conn.stmt('recipientsOf').all(messageId) as { recipient: string }[]).map((r) => r.recipient);
  }

  async thread(threadId: string, viewer: string | null): Promise<Message[]> {
    this.conn.live();
    return (this.conn.stmt('thread').all({ thread_id: threadId, viewer }) as MessageRow[]).map(toMessage);
  }

  async history(q: HistoryQuery): Promise<Message[]> {
    this.conn.live();
    // A search must see every committed message: index what is still pending first.
    if (q.search !== undefined) this.conn.indexAll();
    const rows = this.conn.stmt(q.channel === undefined ? 'history' : 'historyChannel').all({
      ...(q.channel === undefined ? {} : { channel: q.channel }),
      viewer: q.viewer,
      agent: q.agent ?? null,
      since: q.since ?? null,
      type: q.type ?? null,
      search: q.search === undefined ? null : ftsQuery(q.search),
      limit: q.limit,
    }) as MessageRow[];
    return rows.map(toMessage);
  }
}
