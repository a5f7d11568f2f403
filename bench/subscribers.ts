// Stream consumers for the stream benchmarks: one raw WebSocket per agent (`ws`, not HubStream:
// no reconnects, no per-frame promises, no full JSON parse), each acknowledging what it received
// in batches. A delivery is recognised by its body, `bench:<seq>:...`, and reported as
// (seq, monotonic ms). The consumers run in the benchmark process, or split over child processes
// (bench/subscriber-child.ts) when one process cannot read them all; the receive times are on the
// system's monotonic clock either way, so they compare with the sender's.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { monoMs } from './report.js';
import { trackChild } from './servers.js';

export interface ConsumerOptions {
  /** The hub's http:// base URL. */
  url: string;
  prefetch: number;
  /** An ack frame goes out when this many ids are waiting, or this long after the first one arrived. */
  ackBatch: number;
  ackEveryMs: number;
}

export type OnDelivery = (seq: number, t: number) => void;

export interface ConsumerCounts {
  received: number;
  ackFrames: number;
  ackedIds: number;
  errors: number;
  firstError: string | null;
}

const BODY_MARK = '"body":"bench:';
const MESSAGE_MARK = '"message":{"id":"';

/** `bench:<seq>:` followed by padding up to `bytes`. */
export function benchBody(seq: number, bytes: number): string {
  const head = `bench:${seq}:`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

export class Consumer {
  readonly counts: ConsumerCounts = { received: 0, ackFrames: 0, ackedIds: 0, errors: 0, firstError: null };
  private ws: WebSocket | null = null;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private frameId = 0;

  constructor(
    private readonly o: ConsumerOptions,
    private readonly token: string,
    private readonly onDelivery: OnDelivery,
  ) {}

  /** Resolves on the hub's `ready` frame. */
  connect(): Promise<void> {
    const url = `${this.o.url.replace(/^http/, 'ws')}/v1/ws?prefetch=${this.o.prefetch}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` }, perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready frame within 10 s')), 10_000);
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('{"type":"delivery"')) return this.delivery(text);
        if (text.startsWith('{"type":"acked"')) return;
        if (text.startsWith('{"type":"ready"')) {
          clearTimeout(timer);
          return resolve();
        }
        this.counts.errors += 1;
        this.counts.firstError ??= text.slice(0, 300);
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        this.counts.errors += 1;
        this.counts.firstError ??= e.message;
        reject(e);
      });
      ws.on('close', (code, reason) => {
        clearTimeout(timer);
        if (this.ws !== null) {
          this.counts.errors += 1;
          this.counts.firstError ??= `closed by the hub: ${code} ${reason.toString()}`;
        }
        reject(new Error(`closed before ready: ${code}`));
      });
    });
  }

  private delivery(text: string): void {
    const t = monoMs();
    const m = text.indexOf(MESSAGE_MARK);
    const b = text.indexOf(BODY_MARK, m);
    if (m < 0 || b < 0) {
      this.counts.errors += 1;
      this.counts.firstError ??= `unexpected delivery: ${text.slice(0, 300)}`;
      return;
    }
    const idStart = m + MESSAGE_MARK.length;
    this.pending.push(text.slice(idStart, text.indexOf('"', idStart)));
    const seqStart = b + BODY_MARK.length;
    this.counts.received += 1;
    this.onDelivery(Number(text.slice(seqStart, text.indexOf(':', seqStart))), t);
    if (this.pending.length >= this.o.ackBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.ackEveryMs);
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 || this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(`{"type":"ack","id":"a${++this.frameId}","ids":${JSON.stringify(this.pending)}}`);
    this.counts.ackFrames += 1;
    this.counts.ackedIds += this.pending.length;
    this.pending = [];
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.terminate();
  }
}

/** Consumers for a list of tokens, wherever they run. */
export interface ConsumerPool {
  counts(): ConsumerCounts;
  /** Pids of the processes reading (the benchmark's own when in-process). */
  pids: number[];
  close(): Promise<void>;
}

function sum(list: ConsumerCounts[]): ConsumerCounts {
  const out: ConsumerCounts = { received: 0, ackFrames: 0, ackedIds: 0, errors: 0, firstError: null };
  for (const c of list) {
    out.received += c.received;
    out.ackFrames += c.ackFrames;
    out.ackedIds += c.ackedIds;
    out.errors += c.errors;
    out.firstError ??= c.firstError;
  }
  return out;
}

/** Messages between a child (bench/subscriber-child.ts) and the benchmark. */
export type ChildRequest = { type: 'start'; options: ConsumerOptions; tokens: string[]; reportMs: number } | { type: 'stop' };
export type ChildReport =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'batch'; seqs: Int32Array; times: Float64Array; counts: ConsumerCounts }
  | { type: 'stopped'; counts: ConsumerCounts };

const CHILD = fileURLToPath(new URL('./subscriber-child.js', import.meta.url));

async function inProcess(o: ConsumerOptions, tokens: string[], onDelivery: OnDelivery): Promise<ConsumerPool> {
  const consumers = tokens.map((t) => new Consumer(o, t, onDelivery));
  await Promise.all(consumers.map((c) => c.connect()));
  return {
    counts: () => sum(consumers.map((c) => c.counts)),
    pids: [process.pid],
    close: () => {
      for (const c of consumers) c.close();
      return Promise.resolve();
    },
  };
}

async function inChildren(o: ConsumerOptions, tokens: string[], procs: number, onDelivery: OnDelivery): Promise<ConsumerPool> {
  const children: { proc: ChildProcess; counts: ConsumerCounts; stopped: Promise<void> }[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < procs; i++) {
    const proc = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    trackChild(proc);
    const child = { proc, counts: sum([]), stopped: Promise.resolve() };
    let stoppedResolve!: () => void;
    child.stopped = new Promise((r) => (stoppedResolve = r));
    ready.push(
      new Promise((resolve, reject) => {
        proc.on('message', (m: ChildReport) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'failed') reject(new Error(`subscriber child: ${m.error}`));
          else if (m.type === 'batch') {
            child.counts = m.counts;
            for (let k = 0; k < m.seqs.length; k++) onDelivery(m.seqs[k] as number, m.times[k] as number);
          } else {
            child.counts = m.counts;
            stoppedResolve();
          }
        });
        proc.once('exit', (code) => {
          stoppedResolve();
          reject(new Error(`subscriber child exited with ${code}`));
        });
      }),
    );
    const mine = tokens.filter((_, k) => k % procs === i);
    proc.send({ type: 'start', options: o, tokens: mine, reportMs: 2 } satisfies ChildRequest);
    children.push(child);
  }
  await Promise.all(ready);
  return {
    counts: () => sum(children.map((c) => c.counts)),
    pids: children.map((c) => c.proc.pid ?? -1),
    async close() {
      for (const c of children) if (c.proc.connected) c.proc.send({ type: 'stop' } satisfies ChildRequest);
      await Promise.race([Promise.all(children.map((c) => c.stopped)), new Promise((r) => setTimeout(r, 5000))]);
      for (const c of children) c.proc.kill('SIGKILL');
    },
  };
}

/** Connects one consumer per token (procs 0: in this process; else split over that many children). */
export function startConsumers(o: ConsumerOptions, tokens: string[], procs: number, onDelivery: OnDelivery): Promise<ConsumerPool> {
  return procs === 0 ? inProcess(o, tokens, onDelivery) : inChildren(o, tokens, procs, onDelivery);
}
