// Group commit: requests that arrive while the event loop is busy are written by one transaction.
// With synchronous=FULL every commit costs an fsync; sharing it among all the sends that arrived in
// the same turn of the event loop is what lets a single SQLite file keep up with the HTTP layer.
// A caller's promise settles only after the transaction holding its item has committed.
//
// The commit function may be synchronous (SQLite: settled in the same turn, no promise in the
// way) or return a promise (PostgreSQL: one transaction on one pooled connection). While an
// asynchronous commit is in flight, new items wait and form the next batch: one transaction at a
// time keeps batches large and the send order of the queue.
//
// The waiting items are bounded (`maxQueue`): when the store falls behind, an item beyond the
// bound is refused at once with `overloaded` (503 with Retry-After over HTTP) instead of holding
// its request, and its memory, until the queue drains (issue 12).

type Outcomes<O> = (O | Error)[];

import { HubError } from '../errors.js';

export interface GroupCommitOptions<I, O> {
  /** Runs one batch inside one transaction. Returns one outcome per item: a value or an Error. */
  commit: (items: I[]) => Outcomes<O> | Promise<Outcomes<O>>;
  /** Most items per transaction. */
  maxBatch: number;
  /** Most items waiting for a commit (the one in flight not counted); beyond, `submit` refuses. Default: unbounded. */
  maxQueue?: number | undefined;
  /** What the bound is called, for the refusal's message (a setting's name). */
  queueName?: string | undefined;
}

interface Pending<I, O> {
  item: I;
  resolve: (v: O) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  /** An asynchronous commit has not settled yet. */
  private inFlight = false;
  private closed = false;
  private idle: (() => void)[] = [];
  /** Sizes of recent batches, for metrics and the benchmark. */
  batches = 0;
  items = 0;
  /** Items refused because the queue was full. */
  refused = 0;

  constructor(private readonly opts: GroupCommitOptions<I, O>) {}

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new HubError('shutting_down', 'the store is closing: not accepted'));
    const max = this.opts.maxQueue;
    if (max !== undefined && this.queue.length >= max) {
      this.refused += 1;
      return Promise.reject(
        new HubError('overloaded', `the hub is overloaded: ${this.queue.length} writes already wait for the store (${this.opts.queueName ?? 'queue bound'} ${max}); retry shortly`, {
          details: { retryAfterSeconds: 1 },
        }),
      );
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // setImmediate runs after the I/O callbacks of this loop turn: every request parsed in this
    // turn joins the batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    if (batch.length === 0) return this.next();
    this.batches += 1;
    this.items += batch.length;
    let outcomes: Outcomes<O> | Promise<Outcomes<O>>;
    try {
      outcomes = this.opts.commit(batch.map((p) => p.item));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return this.next();
    }
    if (!(outcomes instanceof Promise)) {
      settle(batch, outcomes);
      return this.next();
    }
    this.inFlight = true;
    outcomes.then(
      (o) => settle(batch, o),
      (e: unknown) => {
        for (const p of batch) p.reject(e);
      },
    ).finally(() => {
      this.inFlight = false;
      this.next();
    });
  }

  private next(): void {
    if (this.queue.length > 0) this.schedule();
    else for (const done of this.idle.splice(0)) done();
  }

  /** Resolves once everything submitted so far has been committed; refuses new items after. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && !this.scheduled && !this.inFlight) return;
    await new Promise<void>((r) => this.idle.push(r));
  }
}

function settle<I, O>(batch: Pending<I, O>[], outcomes: Outcomes<O>): void {
  outcomes.forEach((o, i) => {
    const p = batch[i];
    if (p === undefined) return;
    if (o instanceof Error) p.reject(o);
    else p.resolve(o);
  });
}
