// One HTTP exchange for the client: a request with a JSON body out, the status and the text back.
// Over Node's own http/https modules rather than a fetch: they are part of Node itself, so a
// `swarm send` pays nothing to load them (undici's fetch was ~50 ms of a ~150 ms command on a
// 2-core machine, docs/benchmarks.md), and a trusted CA goes straight into the TLS options
// (Node's built-in fetch refused undici's Agent as a dispatcher on Node 26).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface HttpAnswer {
  status: number;
  statusText: string;
  text: string;
}

/** Why a request got no answer: the socket's error code, or 'timeout'. */
export class NoAnswer extends Error {
  constructor(
    readonly why: string,
    options?: { cause?: unknown },
  ) {
    super(why, options);
  }
}

/** Keep-alive connections for one client; a CA (PEM) is trusted besides the system's. */
export function agentFor(baseUrl: string, ca: Buffer | undefined): HttpAgent | HttpsAgent {
  // Idle keep-alive sockets are unref'd by Node's Agent: they do not keep a CLI process alive.
  if (baseUrl.startsWith('https:')) return new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca: [...rootCertificates, ca.toString('utf8')] }) });
  return new HttpAgent({ keepAlive: true });
}

export function exchange(url: string, o: { method: string; headers: Record<string, string>; body?: string | undefined; timeoutMs: number; agent: HttpAgent | HttpsAgent; signal?: AbortSignal | undefined }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const headers = o.body === undefined ? o.headers : { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) };
    let done = false;
    // The caller gave up (an MCP request cancelled): no answer is awaited any more.
    const abort = (): void => {
      finish(() => reject(new NoAnswer('aborted')));
      req.destroy();
    };
    const finish = (f: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // A signal may outlive many requests (an MCP session's): leave no listener on it.
      o.signal?.removeEventListener('abort', abort);
      f();
    };
    const req = send(url, { method: o.method, headers, agent: o.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new NoAnswer(e.code ?? e.message, { cause: e }))));
    });
    const timer = setTimeout(() => {
      finish(() => reject(new NoAnswer('timeout')));
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new NoAnswer(e.code ?? e.message, { cause: e }))));
    if (o.signal !== undefined) {
      if (o.signal.aborted) abort();
      else o.signal.addEventListener('abort', abort, { once: true });
    }
    req.end(o.body);
  });
}
