// The webhook deliverer against a real node:http receiver on 127.0.0.1: what is sent and signed,
// and each answer's Outcome (2xx, 5xx, Retry-After, permanent 4xx, no answer, no listener); and
// the verification snippet that docs/webhooks.md gives receivers, run against a real delivery.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { WebhookTarget } from '../../src/delivery/deliverer.js';
import { deliver } from '../../src/delivery/deliverer.js';
import { parseRetryAfter, sign, verifySignature } from '../../src/delivery/webhook.js';
import { freePort } from '../support/net.js';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import { delivery } from './fixtures.js';

interface Received {
  headers: IncomingMessage['headers'];
  raw: Buffer;
}

/** A receiver answering with `answer`; every request is recorded. Closed when the test ends. */
async function receiver(t: { after(fn: () => void | Promise<void>): void }, answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      answer(req, res);
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, connections: () => connections };
}

const target = (url: string, over: Partial<WebhookTarget> = {}): WebhookTarget => ({ kind: 'webhook', url, secret: 'shh-its-a-secret', timeoutMs: 2_000, ...over });

describe('webhook deliverer', () => {
  it('POSTs {agent, attempt, message} with the documented headers, signed so verifySignature accepts it', async (t) => {
    const hook = await receiver(t, (_req, res) => res.writeHead(204).end());
    const d = delivery({ body: 'naïve "quotes" and ünïcode ✓' }, 'Agent-3', 3);
    const before = Math.floor(Date.now() / 1000);
    const o = await deliver(target(hook.url), d);
    assert.equal(o.ok, true, JSON.stringify(o));
    assert.ok(o.ms >= 0);
    const [r] = hook.received;
    assert.ok(r);
    assert.deepEqual(JSON.parse(r.raw.toString('utf8')), { agent: 'Agent-3', attempt: 3, message: d.message });
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['user-agent'], 'swarm-hub');
    assert.equal(r.headers['x-swarm-message-id'], d.message.id);
    assert.equal(r.headers['x-swarm-attempt'], '3');
    const ts = Number(r.headers['x-swarm-timestamp']);
    assert.ok(ts >= before && ts <= before + 2, `timestamp ${ts} is unix seconds`);
    assert.match(String(r.headers['x-swarm-signature']), /^v1=[0-9a-f]{64}$/);
    assert.equal(r.headers['x-swarm-signature'], sign('shh-its-a-secret', ts, r.raw));

    assert.equal(verifySignature('shh-its-a-secret', r.headers, r.raw), true);
    assert.equal(verifySignature('shh-its-a-secret', r.headers, r.raw.toString('utf8')), true, 'a string body verifies too');
    assert.equal(verifySignature('wrong-secret', r.headers, r.raw), false, 'wrong secret');
    assert.equal(verifySignature('shh-its-a-secret', r.headers, Buffer.concat([r.raw, Buffer.from(' ')])), false, 'changed body');
    assert.equal(verifySignature('shh-its-a-secret', r.headers, r.raw, 300, (ts + 301) * 1000), false, 'stale timestamp');
    assert.equal(verifySignature('shh-its-a-secret', r.headers, r.raw, 300, (ts - 301) * 1000), false, 'timestamp from the future');
    assert.equal(verifySignature('shh-its-a-secret', r.headers, r.raw, 300, (ts + 299) * 1000), true, 'within tolerance');
    assert.equal(verifySignature('shh-its-a-secret', { ...r.headers, 'x-swarm-timestamp': String(ts + 1) }, r.raw), false, 'timestamp is signed');
    assert.equal(verifySignature('shh-its-a-secret', { ...r.headers, 'x-swarm-signature': undefined }, r.raw), false, 'no signature');
  });

  it('reuses a keep-alive connection for the next delivery', async (t) => {
    const hook = await receiver(t, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'));
    for (let i = 0; i < 3; i++) assert.equal((await deliver(target(hook.url), delivery())).ok, true);
    assert.equal(hook.received.length, 3);
    assert.equal(hook.connections(), 1);
  });

  it('a kept-alive connection the receiver reset is sent again once on a new one', async (t) => {
    // Answers the first request on each connection and resets the connection on the second: what a
    // receiver closing an idle socket just as it is reused looks like.
    let connections = 0;
    let answered = 0;
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      connections += 1;
      sockets.add(socket);
      let seen = 0;
      let text = '';
      socket.on('error', () => undefined);
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        const head = text.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
        if (text.length < head + 4 + length) return;
        text = text.slice(head + 4 + length);
        seen += 1;
        if (seen === 1) {
          answered += 1;
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n');
        } else socket.resetAndDestroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    assert.equal((await deliver(target(url), delivery())).ok, true);
    const o = await deliver(target(url), delivery());
    assert.equal(o.ok, true, JSON.stringify(o));
    assert.equal(answered, 2);
    assert.equal(connections, 2);
  });

  it('500 is a retryable http_status naming the status and quoting the answer', async (t) => {
    const hook = await receiver(t, (_req, res) => res.writeHead(500).end('database on fire'));
    const o = await deliver(target(hook.url), delivery());
    assert.equal(o.ok, false);
    if (o.ok) return;
    assert.equal(o.reason, 'http_status');
    assert.match(o.error, /^HTTP 500 .*database on fire$/);
    assert.equal(o.permanent, undefined);
    assert.equal(o.retryAfterMs, undefined);
  });

  it('503, 429 and 408 are retryable and carry Retry-After in seconds or as an HTTP date', async (t) => {
    const answers: [number, Record<string, string>][] = [
      [503, { 'retry-after': '7' }],
      [429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }],
      [408, {}],
    ];
    const hook = await receiver(t, (_req, res) => {
      const [status, headers] = answers[hook.received.length - 1] ?? [500, {}];
      res.writeHead(status, headers).end();
    });
    const o503 = await deliver(target(hook.url), delivery());
    assert.ok(!o503.ok && o503.reason === 'http_status' && o503.permanent === undefined);
    assert.equal(o503.retryAfterMs, 7_000);
    const o429 = await deliver(target(hook.url), delivery());
    assert.ok(!o429.ok && o429.reason === 'http_status' && o429.permanent === undefined);
    assert.ok(o429.retryAfterMs !== undefined && o429.retryAfterMs > 55_000 && o429.retryAfterMs <= 60_000, String(o429.retryAfterMs));
    const o408 = await deliver(target(hook.url), delivery());
    assert.ok(!o408.ok && o408.reason === 'http_status' && o408.permanent === undefined && o408.retryAfterMs === undefined);
  });

  it('404 and other 4xx are permanent, Retry-After or not', async (t) => {
    const hook = await receiver(t, (_req, res) => res.writeHead(hook.received.length === 1 ? 404 : 401, { 'retry-after': '5' }).end());
    for (const status of [404, 401]) {
      const o = await deliver(target(hook.url), delivery());
      assert.ok(!o.ok);
      assert.equal(o.reason, 'http_status');
      assert.equal(o.permanent, true);
      assert.equal(o.retryAfterMs, undefined);
      assert.match(o.error, new RegExp(`^HTTP ${status}`));
    }
  });

  it('a receiver that never answers is a timeout after timeoutMs', async (t) => {
    const hook = await receiver(t, () => undefined);
    const o = await deliver(target(hook.url, { timeoutMs: 300 }), delivery());
    assert.ok(!o.ok);
    assert.equal(o.reason, 'timeout');
    assert.ok(o.ms >= 290 && o.ms < 2_000, `took ${o.ms} ms`);
    assert.equal(o.permanent, undefined);
  });

  it('no listener is refused, naming ECONNREFUSED; an unknown host names the DNS error', async () => {
    const port = await freePort();
    const o = await deliver(target(`http://127.0.0.1:${port}/hook`), delivery());
    assert.ok(!o.ok);
    assert.equal(o.reason, 'refused');
    assert.match(o.error, /ECONNREFUSED/);
    const dns = await deliver(target('http://no-such-host.invalid/hook'), delivery());
    assert.ok(!dns.ok);
    assert.equal(dns.reason, 'refused');
    assert.match(dns.error, /ENOTFOUND|EAI_AGAIN/);
  });

  it('https: checks the certificate: a self-signed receiver is refused, naming the TLS error, and gets nothing', async (t) => {
    const dir = tempDir();
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    let requests = 0;
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      requests += 1;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const o = await deliver(target(`https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`), delivery());
    assert.ok(!o.ok);
    assert.equal(o.reason, 'refused');
    assert.match(o.error, /SELF_SIGNED/);
    assert.equal(requests, 0);
  });

  it('only http: and https: URLs; a bad URL is a permanent bad_target and sends nothing', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url', '']) {
      const o = await deliver(target(url), delivery());
      assert.ok(!o.ok);
      assert.equal(o.reason, 'bad_target', url);
      assert.equal(o.permanent, true);
    }
  });

  it('an answer body is read bounded: a huge 2xx is ok, a huge 5xx is quoted in 200 characters', async (t) => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const hook = await receiver(t, (_req, res) => res.writeHead(hook.received.length === 1 ? 200 : 502).end(big));
    assert.equal((await deliver(target(hook.url), delivery())).ok, true);
    const o = await deliver(target(hook.url), delivery());
    assert.ok(!o.ok && o.reason === 'http_status');
    assert.ok(o.error.length < 260, `error is ${o.error.length} characters`);
  });

  it('an aborted signal ends the try at once', async (t) => {
    const hook = await receiver(t, () => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const o = await deliver(target(hook.url, { timeoutMs: 10_000 }), delivery(), ac.signal);
    assert.ok(!o.ok);
    assert.match(o.error, /aborted/);
    assert.ok(o.ms < 2_000);
  });

  it('parses Retry-After as RFC 9110 has it', () => {
    const now = Date.parse('Fri, 27 Nov 2026 17:00:00 GMT');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 17:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 16:00:00 GMT', now), 0, 'a date in the past is now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('docs/webhooks.md', () => {
  it("the receiver's verification snippet accepts a real delivery and refuses a wrong secret, a changed body, a stale one", async (t) => {
    const page = readFileSync(join(ROOT, 'docs', 'webhooks.md'), 'utf8');
    const m = /<!-- verify:start -->\n```js\n([\s\S]*?)```\n<!-- verify:end -->/.exec(page);
    assert.ok(m, 'the verify block is in docs/webhooks.md');
    const file = join(tempDir(), 'verify.mjs');
    writeFileSync(file, m[1] ?? '');
    const { verify } = (await import(pathToFileURL(file).href)) as { verify(secret: string, headers: unknown, raw: Buffer, now?: number): boolean };
    const hook = await receiver(t, (_req, res) => res.writeHead(200).end());
    assert.equal((await deliver(target(hook.url), delivery({ body: 'ünïcode ✓' }))).ok, true);
    const [r] = hook.received;
    assert.ok(r);
    const ts = Number(r.headers['x-swarm-timestamp']);
    assert.equal(verify('shh-its-a-secret', r.headers, r.raw), true);
    assert.equal(verify('wrong', r.headers, r.raw), false);
    assert.equal(verify('shh-its-a-secret', r.headers, Buffer.from(r.raw.toString('utf8').replace('✓', 'x'))), false);
    assert.equal(verify('shh-its-a-secret', r.headers, r.raw, (ts + 301) * 1000), false);
  });
});
