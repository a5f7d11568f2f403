// The send load spread over several hub processes: one autocannon instance per process, all in
// this process, started together, with one latency record (2xx only) for all of them.
import autocannon, { type Request } from 'autocannon';
import { Latencies } from './load.js';

export const AGENTS = Array.from({ length: 8 }, (_, i) => `Agent-${i + 1}`);
export const BODY = 'x'.repeat(256);

export interface Target {
  url: string;
  connections: number;
}

export interface Load {
  ok: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  statusCodes: Record<string, number>;
  perTarget: number[];
}

function requests(token: string): Request[] {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  return AGENTS.map((to) => ({ method: 'POST', path: '/v1/messages', headers, body: JSON.stringify({ to, body: BODY }) }));
}

export async function fire(targets: Target[], token: string, durationS: number): Promise<Load> {
  const latencies = new Latencies();
  const results = await Promise.all(
    targets.map(async (t) => {
      const instance = autocannon({ url: t.url, connections: t.connections, duration: durationS, timeout: 10, requests: requests(token) });
      instance.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
        if (status >= 200 && status < 300) latencies.add(ms);
      });
      const guard = setTimeout(() => instance.stop(), (durationS + 30) * 1000);
      try {
        return await instance;
      } finally {
        clearTimeout(guard);
      }
    }),
  );
  const statusCodes: Record<string, number> = {};
  for (const r of results) for (const [code, s] of Object.entries(r.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + Number(s.count);
  const ok = results.reduce((n, r) => n + r['2xx'], 0);
  return {
    ok,
    // Each instance's own duration: they start together and run the same seconds.
    rate: results.reduce((n, r) => n + r['2xx'] / r.duration, 0),
    p50: latencies.percentile(50),
    p99: latencies.percentile(99),
    max: latencies.percentile(100),
    errors: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    statusCodes,
    perTarget: results.map((r) => r['2xx'] / r.duration),
  };
}

export function spread(urls: string[], connections: number): Target[] {
  return urls.map((url, i) => ({ url, connections: Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0) }));
}
