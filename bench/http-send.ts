// Sends for the stream benchmarks: POST /v1/messages over a few keep-alive connections, without
// waiting for one answer before starting the next (an http.Agent queues only beyond its sockets).
// Reports when the answer's status line arrived, on the monotonic clock the consumers use.
import { Agent, request } from 'node:http';
import { monoMs } from './report.js';

export interface Sent {
  status: number;
  /** Monotonic ms when the response headers arrived; NaN on a socket error. */
  answeredAt: number;
  error?: string;
}

export class Sender {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly headers: Record<string, string>;

  constructor(url: string, token: string, connections: number) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  send(body: { to: string; body: string }, done: (s: Sent) => void): void {
    const payload = JSON.stringify(body);
    let finished = false;
    const finish = (s: Sent): void => {
      if (finished) return;
      finished = true;
      done(s);
    };
    const req = request(
      { host: this.host, port: this.port, method: 'POST', path: '/v1/messages', agent: this.agent, headers: { ...this.headers, 'content-length': Buffer.byteLength(payload) }, timeout: 10_000 },
      (res) => {
        const answeredAt = monoMs();
        const status = res.statusCode ?? 0;
        let text = '';
        if (status >= 300) res.on('data', (d: Buffer) => (text += d.toString()));
        else res.resume();
        res.on('end', () => finish(status >= 300 ? { status, answeredAt, error: text.slice(0, 300) } : { status, answeredAt }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e) => finish({ status: 0, answeredAt: NaN, error: e.message }));
    req.end(payload);
  }

  close(): void {
    this.agent.destroy();
  }
}
