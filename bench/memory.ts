// `npm run bench -- --only memory`: the hub's memory and disk while it stores 1,000,000 messages
// to one recipient, and after half of them are acknowledged (issue 18). `swarm serve` on SQLite
// (synchronous=FULL: every commit fsynced); the sender pipelines send frames over a few WebSockets,
// the recipient then drains half over its stream with batched acks. Sampled every 200 ms: the
// hub's RSS and the size of its `-wal` file (bounded by store.walLimitMiB). Reported: RSS idle,
// peak while storing, after storing, peak while acking, after; the WAL's peak; bytes per message
// on disk once the hub has stopped (database file, WAL truncated at shutdown).
import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CONFIG_KEYS } from '../src/config/keys.js';
import { intOption, machine, parseFlags, runMain, table } from './report.js';
import { registerAgents, startHub } from './servers.js';

const BODY = 'x'.repeat(256);
const TARGET_RSS_MIB = 150;

const HELP = [
  'npm run bench -- --only memory [--messages N] [--sockets N] [--window N] [--keep] [--json]',
  '  --messages N   messages stored to one recipient (default 1000000); half are then acknowledged',
  '  --sockets N    sender WebSockets (default 4)',
  '  --window N     send frames in flight per socket (default 200)',
  "  --keep         keep the hub's data directory",
  '  --json         machine-readable results on stdout',
  '',
].join('\n');

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

function sizeMiB(file: string): number {
  try {
    return statSync(file).size / 1024 / 1024;
  } catch {
    return 0;
  }
}

/** Peaks of RSS and WAL size since the last `take`. */
class Sampler {
  private rss = 0;
  private wal = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    private readonly walFile: string,
  ) {
    this.timer = setInterval(() => this.sample(), 200);
  }
  sample(): void {
    this.rss = Math.max(this.rss, rssMiB(this.pid));
    this.wal = Math.max(this.wal, sizeMiB(this.walFile));
  }
  take(): { rss: number; wal: number } {
    this.sample();
    const r = { rss: this.rss, wal: this.wal };
    this.rss = 0;
    this.wal = 0;
    return r;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

function open(url: string, token: string, query = ''): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws${query}`, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends `n` messages over `sockets` WebSockets, `window` frames in flight on each. */
async function store(url: string, token: string, n: number, sockets: number, window: number, log: (l: string) => void): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const frame = (i: number): string => JSON.stringify({ type: 'send', id: String(i), message: { to: 'Agent-2', body: BODY } });
  await Promise.all(
    Array.from({ length: sockets }, async () => {
      const ws = await open(url, token);
      await new Promise<void>((resolve, reject) => {
        let inFlight = 0;
        const fill = (): void => {
          while (inFlight < window && next < n) {
            ws.send(frame(next++));
            inFlight += 1;
          }
          if (inFlight === 0) resolve();
        };
        ws.on('message', (data: Buffer) => {
          const f = JSON.parse(data.toString()) as { type: string; code?: string; retry_after?: number };
          if (f.type === 'error') return reject(new Error(`send refused: ${f.code ?? ''}`));
          if (f.type !== 'sent') return;
          inFlight -= 1;
          done += 1;
          if (done % 100_000 === 0) log(`stored ${done} of ${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
          fill();
        });
        ws.once('close', () => reject(new Error('sender socket closed')));
        fill();
      });
      ws.removeAllListeners('close');
      ws.close();
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/** Receives deliveries and acknowledges `n` of them, `batch` ids per ack frame. */
async function ackSome(url: string, token: string, n: number, batch: number): Promise<number> {
  const ws = await open(url, token, '?prefetch=2000');
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let ids: string[] = [];
    let sent = 0;
    let acked = 0;
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as { type: string; message?: { id: string }; acked?: string[]; code?: string };
      if (f.type === 'error') return reject(new Error(`ack refused: ${f.code ?? ''}`));
      if (f.type === 'acked') {
        acked += f.acked?.length ?? 0;
        if (acked >= n) resolve();
        return;
      }
      if (f.type !== 'delivery' || f.message === undefined || sent >= n) return;
      ids.push(f.message.id);
      if (ids.length >= Math.min(batch, n - sent)) {
        ws.send(JSON.stringify({ type: 'ack', id: `a${sent}`, ids }));
        sent += ids.length;
        ids = [];
      }
    });
  });
  ws.close();
  return n / ((performance.now() - t0) / 1000);
}

/** Where the resident memory is: anonymous vs file pages, and the main thread's V8 heap (from /metrics). */
async function breakdown(url: string, pid: number): Promise<Record<string, number>> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 1024 / 1024;
  return {
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    heapUsed: gauge('swarm_process_nodejs_heap_size_used_bytes'),
    heapTotal: gauge('swarm_process_nodejs_heap_size_total_bytes'),
    external: gauge('swarm_process_nodejs_external_memory_bytes'),
  };
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const v = parseFlags(process.argv.slice(2), {
    messages: { type: 'string' },
    sockets: { type: 'string' },
    window: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const n = intOption('messages', v.messages, undefined, 1_000_000, 1000, 10_000_000);
  const sockets = intOption('sockets', v.sockets, undefined, 4, 1, 64);
  const window = intOption('window', v.window, undefined, 200, 1, 1000);
  const log = (line: string): boolean => process.stderr.write(`bench memory: ${line}\n`);
  const watchdog = setTimeout(() => {
    log('did not finish within 30 min; giving up');
    process.exit(2);
  }, 1_800_000);
  const loadBefore = loadavg()[0] ?? NaN;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-bench-memory-'));
  if (!v.keep) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const hub = await startHub({ dataDir: dir, synchronous: 'full', env: { SWARM_PREFETCH: '2000' } });
  const pid = hub.proc.pid as number;
  const tokens = await registerAgents(hub.url, hub.adminToken, ['Agent-1', 'Agent-2']);
  await settle(2000);
  const idle = rssMiB(pid);
  const sampler = new Sampler(pid, join(dir, 'swarm.db-wal'));
  const storeRate = await store(hub.url, tokens.get('Agent-1') as string, n, sockets, window, log);
  const storing = sampler.take();
  await settle(3000);
  const afterStore = rssMiB(pid);
  sampler.take();
  log(`stored ${n} at ${storeRate.toFixed(0)}/s; acknowledging half`);
  const ackRate = await ackSome(hub.url, tokens.get('Agent-2') as string, Math.floor(n / 2), 500);
  const acking = sampler.take();
  await settle(3000);
  const afterAck = rssMiB(pid);
  const parts = await breakdown(hub.url, pid);
  sampler.stop();
  const code = await hub.stop();
  const dbMiB = sizeMiB(join(dir, 'swarm.db'));
  const walAfter = sizeMiB(join(dir, 'swarm.db-wal'));
  const bytesPerMessage = ((dbMiB + walAfter) * 1024 * 1024) / n;
  clearTimeout(watchdog);
  const walLimit = CONFIG_KEYS['store.walLimitMiB'].default;
  const peak = Math.max(storing.rss, afterStore, acking.rss, afterAck);
  const m = machine();
  const result = { machine: m, loadBefore, loadAfter: loadavg()[0], messages: n, sockets, window, storeRate, ackRate, rssMiB: { idle, storingPeak: storing.rss, afterStore, ackingPeak: acking.rss, afterAck }, walPeakMiB: Math.max(storing.wal, acking.wal), walLimitMiB: walLimit, dbMiB, walAfterMiB: walAfter, bytesPerMessage, afterParts: parts, exitCode: code, targetRssMiB: TARGET_RSS_MIB, met: peak < TARGET_RSS_MIB };
  if (v.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const f = (x: number): string => x.toFixed(1);
  process.stdout.write(`Memory: ${n} messages of 256 B to one recipient over ${sockets} WebSockets (${window} in flight each), then half acknowledged (500 ids per ack frame); swarm serve, SQLite synchronous=FULL\n`);
  process.stdout.write(`${m.cpus} × ${m.cpu}, node ${m.node}; load average (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? NaN).toFixed(2)} after\n\n`);
  process.stdout.write(
    table([
      ['', 'RSS MiB', 'WAL MiB (peak)', 'rate/s'],
      ['idle, before', f(idle), '-', '-'],
      ['storing (peak)', f(storing.rss), f(storing.wal), storeRate.toFixed(0)],
      ['after storing', f(afterStore), '-', '-'],
      ['acknowledging half (peak)', f(acking.rss), f(acking.wal), ackRate.toFixed(0)],
      ['after', f(afterAck), '-', '-'],
    ]),
  );
  process.stdout.write(`\nWAL bound (store.walLimitMiB): ${walLimit} MiB; peak ${f(result.walPeakMiB)} MiB. On disk after shutdown (exit ${String(code)}): database ${f(dbMiB)} MiB, WAL ${f(walAfter)} MiB: ${bytesPerMessage.toFixed(0)} bytes per message.\n`);
  process.stdout.write(`After, in MiB: anonymous ${f(parts.rssAnon ?? NaN)}, file-backed ${f(parts.rssFile ?? NaN)}; the event loop's V8 heap ${f(parts.heapUsed ?? NaN)} used of ${f(parts.heapTotal ?? NaN)}, external ${f(parts.external ?? NaN)}.\n`);
  process.stdout.write(`RSS peak ${f(peak)} MiB (target < ${TARGET_RSS_MIB}: ${peak < TARGET_RSS_MIB ? 'met' : 'MISSED'})\n`);
}

runMain(main);
