// The webhook deliverer: one signed HTTP POST of `{agent, attempt, message}` per try.
//
// Signature scheme (v1), the one a receiver checks with verifySignature below:
//   X-Swarm-Timestamp: unix seconds at sending
//   X-Swarm-Signature: v1=<hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`)>
// The timestamp is inside the signed text, so a captured request cannot be replayed later than the
// receiver's tolerance (5 minutes by default); the receiver must sign the raw bytes it received,
// not a re-serialised parse. X-Swarm-Message-Id is stable across retries: a receiver dedupes on it
// (a try that timed out may have been handled).
//
// Over node:http/https rather than fetch, like src/client/http.ts: part of Node itself, and one
// keep-alive agent per protocol for the process (idle sockets are unref'd by Node's Agent).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Delivery, Outcome, WebhookTarget } from './deliverer.js';
import { clock, deliveryJson, errorCode, failed, succeeded } from './outcome.js';

/** How much of an answer's body is read (and quoted in `error` for a non-2xx); the rest is dropped. */
const BODY_LIMIT = 64 * 1024;
const QUOTED = 200;

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

/** The signature header's value for a body sent at `timestamp` (unix seconds). */
export function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/**
 * For a receiver: true when the request's X-Swarm-Signature is the HMAC of its raw body and
 * X-Swarm-Timestamp under `secret`, and the timestamp is within `toleranceSeconds` of `now` (ms).
 * Compared in constant time.
 */
export function verifySignature(secret: string, headers: Headers, rawBody: string | Buffer, toleranceSeconds = 300, now: number = Date.now()): boolean {
  const ts = header(headers, 'x-swarm-timestamp') ?? '';
  const given = header(headers, 'x-swarm-signature') ?? '';
  if (!/^\d{1,12}$/.test(ts)) return false;
  const timestamp = Number(ts);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, rawBody));
  const got = Buffer.from(given);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP date form starts with the day's name; Date.parse alone would read '-5' as a year.
  const at = /^[A-Za-z]{3}/.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Reads at most BODY_LIMIT bytes of an answer, then drops the rest; settles on end, error or limit. */
function readBounded(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
      else {
        // An endless answer must not hold the socket: destroy it (the connection is not reused).
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}

export function deliverByWebhook(t: WebhookTarget, d: Delivery, signal?: AbortSignal): Promise<Outcome> {
  const start = clock();
  let url: URL;
  try {
    url = new URL(t.url);
  } catch {
    return Promise.resolve(failed(start, 'bad_target', `not a URL: ${JSON.stringify(t.url)}`, { permanent: true }));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve(failed(start, 'bad_target', `only http: and https: URLs are delivered to, not ${url.protocol}`, { permanent: true }));
  if (signal?.aborted) return Promise.resolve(failed(start, 'timeout', 'aborted before sending'));

  const body = deliveryJson(d);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'swarm-hub',
    'x-swarm-message-id': d.message.id,
    'x-swarm-attempt': String(d.attempt),
    'x-swarm-timestamp': String(timestamp),
    'x-swarm-signature': sign(t.secret, timestamp, body),
  };
  const https = url.protocol === 'https:';

  return new Promise<Outcome>((resolve) => {
    let settled = false;
    // The exchange is over (the body read, or the request failed): the timer has nothing to cut.
    let over = false;
    const settle = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const end = (): void => {
      over = true;
      clearTimeout(timer);
    };
    const onAbort = (): void => {
      settle(failed(start, 'timeout', 'aborted: the hub gave up waiting'));
      end();
      req.destroy();
    };
    // One deadline for the whole exchange. After a 2xx it only cuts a body still being drained.
    const timer = setTimeout(() => {
      settle(failed(start, 'timeout', `no answer within ${t.timeoutMs} ms`));
      if (!over) req.destroy();
    }, t.timeoutMs);
    let resent = false;
    const post = () => {
      const r = (https ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent: https ? httpsAgent : httpAgent }, (res) => {
        const status = res.statusCode ?? 0;
        const reading = readBounded(res);
        if (status >= 200 && status < 300) {
          // Answered: the rest of the body is drained in the background, bounded in size and time.
          settle(succeeded(start));
          void reading.then(end);
          return;
        }
        void reading.then((text) => {
          end();
          const retryable = status === 408 || status === 429 || status >= 500;
          const quoted = text.replace(/\s+/g, ' ').trim().slice(0, QUOTED);
          const retryAfterMs = retryable ? parseRetryAfter(res.headers['retry-after']) : undefined;
          settle(failed(start, 'http_status', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${quoted === '' ? '' : `: ${quoted}`}`, { ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...(retryable ? {} : { permanent: true }) }));
        });
      });
      r.on('error', (e) => {
        // A kept-alive socket the receiver closed as idle just as it was reused: Node's documented
        // answer is to send again once on a new connection; it says nothing about the receiver.
        if (r.reusedSocket && errorCode(e) === 'ECONNRESET' && !resent && !settled) {
          resent = true;
          req = post();
          return;
        }
        end();
        settle(failed(start, 'refused', `${errorCode(e)} (${url.host})`));
      });
      r.end(body);
      return r;
    };
    let req = post();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
