// A webhook receiver on 127.0.0.1 for the delivery-target tests and the bench: records every push
// (message id, attempt, whether its signature verifies, when), answers as its current `mode` says,
// and counts, per message id, pushes in flight at the same moment.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/delivery/webhook.js';

export type Mode = 'ok' | 'fail500' | 'retry-after' | 'hang' | 'slow';

export interface Push {
  id: string;
  attempt: number;
  verified: boolean;
  /** When it arrived, on this process's monotonic clock (performance.now()). */
  at: number;
  body: { agent: string; attempt: number; message: { id: string; body: string; sender: string } };
}

export interface Receiver {
  url: string;
  port: number;
  mode: Mode;
  /** `slow`: how long each answer waits. */
  slowMs: number;
  /** Every push received, in order, answered or not. */
  pushes: Push[];
  /** Message ids seen in flight twice at once. */
  overlaps: string[];
  /** Distinct message ids answered 2xx. */
  delivered: Set<string>;
  /** Closes the listener (connections refused) and every held request. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
  /** Resolves when `n` distinct ids were answered 2xx, or rejects after `ms`. */
  waitDelivered(n: number, ms: number): Promise<void>;
}

export async function startReceiver(secret: () => string, port = 0): Promise<Receiver> {
  const inflight = new Map<string, number>();
  const held = new Set<ServerResponse>();
  let server: Server | null = null;
  const waiters: (() => void)[] = [];
  const r: Receiver = {
    url: '',
    port,
    mode: 'ok',
    slowMs: 5,
    pushes: [],
    overlaps: [],
    delivered: new Set(),
    close: async () => {
      for (const res of held) res.destroy();
      held.clear();
      const s = server;
      server = null;
      if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
      s?.closeAllConnections();
    },
    reopen: () => listen(),
    waitDelivered: (n, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${r.delivered.size} of ${n} pushes delivered after ${ms} ms (${r.pushes.length} received)`)), ms);
        const check = (): void => {
          if (r.delivered.size >= n) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString('utf8')) as Push['body'];
      const id = body.message.id;
      r.pushes.push({ id, attempt: body.attempt, verified: verifySignature(secret(), req.headers, raw), at: performance.now(), body });
      const n = (inflight.get(id) ?? 0) + 1;
      inflight.set(id, n);
      if (n > 1) r.overlaps.push(id);
      const done = (status: number, headers: Record<string, string> = {}): void => {
        inflight.set(id, (inflight.get(id) ?? 1) - 1);
        held.delete(res);
        if (res.destroyed) return;
        res.writeHead(status, headers).end();
        if (status < 300) {
          r.delivered.add(id);
          for (const w of waiters.splice(0)) w();
        }
      };
      held.add(res);
      res.on('close', () => {
        if (!res.writableEnded) inflight.set(id, (inflight.get(id) ?? 1) - 1);
        held.delete(res);
      });
      switch (r.mode) {
        case 'ok':
          return done(204);
        case 'slow':
          return void setTimeout(() => done(204), r.slowMs);
        case 'fail500':
          return done(500);
        case 'retry-after':
          return done(503, { 'retry-after': '1' });
        case 'hang':
          return;
      }
    });
  };
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer(handle);
      s.keepAliveTimeout = 1000;
      s.once('error', reject);
      s.listen(r.port, '127.0.0.1', () => {
        server = s;
        r.port = (s.address() as AddressInfo).port;
        r.url = `http://127.0.0.1:${r.port}/hook`;
        resolve();
      });
    });
  await listen();
  return r;
}
