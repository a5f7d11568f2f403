// A TCP proxy a test can break: `cut()` drops every connection through it at once (as a database
// restart or a network failure does: the peer sees the socket end), `refuse()` cuts them and
// refuses new ones (connection refused) until `accept()`, and `answerNext(n, raw)` answers n of
// the next connections itself with `raw` (an HTTP response, as a balancer with no server does),
// after those already queued. For outage tests that must not stop the shared server.
import { connect, createServer, type Socket } from 'node:net';

export interface CutProxy {
  port: number;
  cut(): void;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  answerNext(n: number, raw: string): void;
  close(): Promise<void>;
}

export async function startProxy(host: string, port: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  const answers: string[] = [];
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = createServer((client) => {
    const raw = answers.shift();
    if (raw !== undefined) {
      track(client);
      client.once('data', () => client.end(raw));
      return;
    }
    const upstream = connect(port, host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  const listen = (at: number): Promise<void> => new Promise((resolve, reject) => server.once('error', reject).listen(at, '127.0.0.1', () => resolve()));
  await listen(0);
  const address = server.address();
  const own = typeof address === 'object' && address !== null ? address.port : 0;
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: own,
    cut,
    refuse: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cut();
      return closed;
    },
    accept: () => listen(own),
    answerNext: (n, raw) => {
      for (let i = 0; i < n; i++) answers.push(raw);
    },
    close: async () => {
      cut();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
