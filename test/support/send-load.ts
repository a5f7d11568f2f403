// Send load for the availability tests: a fleet of `clients` concurrent senders paced together to at
// most `perSecond` messages/s, each message with an idempotency key and a fixed retry budget
// (attempts and time), retried on network errors and on 502/503/504 only, as a well-behaved client
// does. A fleet rather than an open loop: on a machine slower than the target rate the rate drops
// (and is reported) instead of queueing without bound, so that what fails is what the failures
// caused. Every attempt's outcome is counted, and the caller may look at each answer as it comes.
// Bounded: no message starts after `durationMs` (or `stop()`), and each ends within its budget.
// undici's request() rather than fetch(): at 500 sends/s fetch alone took a third of a core.
import { Agent, request } from 'undici';

export interface LoadOptions {
  url: string;
  senders: { id: string; token: string }[];
  recipients: string[];
  perSecond: number;
  /** Senders working at once. */
  clients: number;
  durationMs: number;
  /** Most attempts per message, and the time they must fit in (from the first attempt). */
  attempts: number;
  budgetMs: number;
  /** Idempotency keys are `${keyPrefix}-${n}`. */
  keyPrefix: string;
  /** Told of every answer the hub (or the balancer) gave. */
  onAnswer?: (a: { status: number; headers: Record<string, string | string[] | undefined>; body: string; at: number }) => void;
}

export interface SendRecord {
  n: number;
  key: string;
  sender: string;
  to: string;
  /** The stored message id, when an attempt was answered 2xx. */
  id: string | null;
  attempts: number;
  /** From the first attempt to the 2xx (or to giving up). */
  ms: number;
  /** Why the last attempt failed, when no attempt was answered 2xx. */
  failure: string | null;
}

export interface Load {
  /** Starts no more messages; resolves when every message started has finished. */
  stop(): Promise<SendRecord[]>;
  done: Promise<SendRecord[]>;
  /** Outcome of every attempt: HTTP status or `network:<code>`, with counts. */
  outcomes: Map<string, number>;
  /** Every attempt that was not answered 2xx: when it ended, and how. */
  failedAttempts: { at: number; what: string }[];
  records: SendRecord[];
}

const RETRYABLE = new Set([502, 503, 504]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errorCode(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string } };
  return err.cause?.code ?? err.code ?? err.name ?? 'error';
}

export function startLoad(o: LoadOptions): Load {
  const records: SendRecord[] = [];
  const outcomes = new Map<string, number>();
  const failedAttempts: { at: number; what: string }[] = [];
  const count = (k: string): void => {
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    if (k !== '200' && k !== '201') failedAttempts.push({ at: Date.now(), what: k });
  };
  const agent = new Agent({ keepAliveTimeout: 4000, connections: o.clients * 2 });
  let stopped = false;

  const attempt = async (r: SendRecord, token: string, body: string, left: number): Promise<'done' | 'retry'> => {
    try {
      const res = await request(`${o.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': r.key },
        body,
        dispatcher: agent,
        signal: AbortSignal.timeout(left),
      });
      const text = await res.body.text();
      const status = res.statusCode;
      count(String(status));
      o.onAnswer?.({ status, headers: res.headers, body: text, at: Date.now() });
      if (status === 200 || status === 201) {
        r.id = (JSON.parse(text) as { message: { id: string } }).message.id;
        r.failure = null;
        return 'done';
      }
      r.failure = `${status} ${text.slice(0, 200)}`;
      return RETRYABLE.has(status) ? 'retry' : 'done';
    } catch (e) {
      const code = `network:${errorCode(e)}`;
      count(code);
      r.failure = code;
      return 'retry';
    }
  };

  const sendOne = async (r: SendRecord, token: string): Promise<void> => {
    const started = Date.now();
    const body = JSON.stringify({ to: r.to, body: `availability ${r.key}` });
    let wait = 50;
    while (r.attempts < o.attempts) {
      const left = o.budgetMs - (Date.now() - started);
      if (left <= 0) break;
      r.attempts += 1;
      if ((await attempt(r, token, body, left)) === 'done') break;
      const pause = Math.min(wait, o.budgetMs - (Date.now() - started));
      if (pause > 0) await sleep(pause);
      wait *= 2;
    }
    r.ms = Date.now() - started;
  };

  const t0 = Date.now();
  let slot = t0;
  let n = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      // The fleet's pacing: each message takes the next free slot of 1/perSecond s.
      const at = Math.max(Date.now(), slot);
      slot = at + 1000 / o.perSecond;
      if (at > Date.now()) await sleep(at - Date.now());
      if (stopped || Date.now() - t0 >= o.durationMs) return;
      const sender = o.senders[n % o.senders.length]!;
      const r: SendRecord = { n, key: `${o.keyPrefix}-${n}`, sender: sender.id, to: o.recipients[n % o.recipients.length]!, id: null, attempts: 0, ms: 0, failure: null };
      n += 1;
      records.push(r);
      await sendOne(r, sender.token);
    }
  };
  const done = Promise.all(Array.from({ length: o.clients }, worker)).then(async () => {
    await agent.close();
    return records;
  });
  return {
    done,
    outcomes,
    failedAttempts,
    records,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}
