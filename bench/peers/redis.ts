// Redis Streams in the peers benchmark (ioredis): XADD for a publish (the reply means the entry is
// in memory; this machine's Redis has neither AOF nor RDB), consumer groups with XREADGROUP and
// XACK for consume, plain XREAD readers for fan-out. ioredis pipelines every command on a
// connection, so in-flight publishes need no more than one. Every stream key is named after the
// run and round and deleted after its case.
import { Redis } from 'ioredis';
import { peakRssMiB } from '../proc-group.js';
import { procUsage } from '../report.js';
import { closedLoop, Drain, FanoutLoop, OpenLoop, type Publish, preload, seqOf } from './loops.js';
import { bodyBytes, type CaseOptions, type Driver, findPid, type MemoryRow, type Row, within } from './system.js';

export const REDIS_HOST = process.env.BENCH_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
const MEMORY = 'memory only here (no AOF, no RDB): the reply means the entry is in memory';

type Entries = [string, [string, string[]][]][] | null;

export class RedisDriver implements Driver {
  readonly system = 'redis' as const;
  private readonly conns = new Set<Redis>();
  private pid: number | null = null;

  constructor(private readonly peerConnections: number) {}

  private async connect(): Promise<Redis> {
    const r = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    r.on('error', () => undefined);
    this.conns.add(r);
    await within(5000, `Redis at ${REDIS_HOST}:${REDIS_PORT}`, () => r.connect());
    return r;
  }

  private disconnect(rs: Redis[]): void {
    for (const r of rs) {
      this.conns.delete(r);
      r.disconnect();
    }
  }

  async open(): Promise<void> {
    const r = await this.connect();
    await r.ping();
    this.disconnect([r]);
    this.pid = findPid('redis-server');
  }

  /** Runs `f` with `key` deleted before and after. */
  private async withKey<T>(key: string, f: () => Promise<T>): Promise<T> {
    const admin = await this.connect();
    await admin.del(key);
    try {
      return await f();
    } finally {
      await admin.del(key).catch(() => undefined);
      this.disconnect([admin]);
    }
  }

  private publisher(r: Redis, key: string): Publish {
    return async (seq) => {
      await r.xadd(key, '*', 'b', bodyBytes(seq));
    };
  }

  private closed(key: string, conns: number, perLane: number, o: CaseOptions, variant: string): Promise<Row> {
    return this.withKey(key, async () => {
      const rs = await Promise.all(Array.from({ length: conns }, () => this.connect()));
      try {
        const m = await closedLoop({ lanes: rs.map((r) => this.publisher(r, key)), perLane, durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.pid });
        return { variant, durability: MEMORY, m };
      } finally {
        this.disconnect(rs);
      }
    });
  }

  async run(c: 'publish' | 'one-connection' | 'consume' | 'e2e' | 'fanout', o: CaseOptions): Promise<Row[]> {
    const base = `peers:${o.runId}:${o.round}`;
    switch (c) {
      case 'publish': {
        const rows: Row[] = [];
        for (const n of o.inFlight) {
          const k = Math.min(n, this.peerConnections);
          rows.push(await this.closed(`${base}:pub${n}`, k, Math.ceil(n / k), o, `XADD, ${k} connections, ${n} outstanding in all`));
        }
        return rows;
      }
      case 'one-connection':
        return [await this.closed(`${base}:one`, 1, o.oneConnection, o, `XADD, 1 connection, ${o.oneConnection} outstanding (pipelined)`)];
      case 'consume':
        return [await this.drain(o, `${base}:drainb`, 'batched'), await this.drain(o, `${base}:drains`, 'single')];
      case 'e2e':
        return [await this.withKey(`${base}:e2e`, () => this.e2e(o, `${base}:e2e`))];
      case 'fanout':
        return [await this.withKey(`${base}:fan`, () => this.fanout(o, `${base}:fan`))];
    }
  }

  private drain(o: CaseOptions, key: string, mode: 'batched' | 'single'): Promise<Row> {
    return this.withKey(key, async () => {
      const rs = await Promise.all(Array.from({ length: this.peerConnections }, () => this.connect()));
      try {
        await preload(rs.map((r) => this.publisher(r, key)), 32, o.messages, o.budgetS);
      } finally {
        this.disconnect(rs);
      }
      const r = await this.connect();
      const drain = new Drain(o.messages, this.pid);
      try {
        await r.xgroup('CREATE', key, 'g', '0');
        drain.begin();
        const until = Date.now() + o.budgetS * 1000;
        while (drain.count < o.messages && Date.now() < until) {
          const got = (await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', o.prefetch, 'STREAMS', key, '>')) as Entries;
          const ids = got?.[0]?.[1].map(([id]) => id) ?? [];
          if (ids.length === 0) break;
          for (let i = 0; i < ids.length; i++) drain.received();
          if (mode === 'single') await Promise.all(ids.map((id) => r.xack(key, 'g', id)));
          else for (let i = 0; i < ids.length; i += o.ackBatch) await r.xack(key, 'g', ...ids.slice(i, i + o.ackBatch));
        }
        const m = await drain.wait(0);
        const variant = mode === 'batched' ? `XREADGROUP COUNT ${o.prefetch}, XACK of up to ${o.ackBatch} ids` : `XREADGROUP COUNT ${o.prefetch}, one XACK per entry (pipelined)`;
        return { variant, durability: MEMORY, m };
      } finally {
        this.disconnect([r]);
      }
    });
  }

  private async e2e(o: CaseOptions, key: string): Promise<Row> {
    const loop = new OpenLoop({ rate: o.rate, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    const pub = await this.connect();
    const sub = await this.connect();
    let reading = true;
    try {
      await sub.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
      const reader = (async () => {
        while (reading) {
          const got = (await sub.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'BLOCK', 100, 'STREAMS', key, '>')) as Entries;
          const entries = got?.[0]?.[1] ?? [];
          if (entries.length === 0) continue;
          for (const [, fields] of entries) loop.received(seqOf(fields[1] ?? ''));
          void sub.xack(key, 'g', ...entries.map(([id]) => id)).catch(loop.failed);
        }
      })();
      const m = await loop.run((seq) => void pub.xadd(key, '*', 'b', bodyBytes(seq)).catch(loop.failed));
      reading = false;
      await reader.catch(loop.failed);
      m.errors += m.lost;
      return { variant: 'XADD → consumer group, XREADGROUP BLOCK COUNT 100, one XACK per read', durability: MEMORY, m, note: `offered ${m.offered.toFixed(0)}/s, lost ${m.lost}` };
    } finally {
      reading = false;
      this.disconnect([pub, sub]);
    }
  }

  private async fanout(o: CaseOptions, key: string): Promise<Row> {
    const loop = new FanoutLoop({ consumers: o.consumers, window: o.window, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    const readers = await Promise.all(Array.from({ length: o.consumers }, () => this.connect()));
    const pub = await this.connect();
    let reading = true;
    try {
      const loops = readers.map(async (r) => {
        let last = '0';
        while (reading) {
          const got = (await r.xread('COUNT', 100, 'BLOCK', 100, 'STREAMS', key, last)) as Entries;
          const entries = got?.[0]?.[1] ?? [];
          for (const [id, fields] of entries) {
            last = id;
            loop.received(seqOf(fields[1] ?? ''));
          }
        }
      });
      const m = await loop.run((seq) => void pub.xadd(key, '*', 'b', bodyBytes(seq)).catch((e: unknown) => loop.failed(seq, e)));
      reading = false;
      await Promise.all(loops).catch((e: unknown) => loop.failed(-1, e));
      return { variant: `XADD → ${o.consumers} connections, XREAD BLOCK COUNT 100 each (no group, no acks)`, durability: MEMORY, m, note: `${m.broadcasts.toFixed(0)} publishes/s` };
    } finally {
      reading = false;
      this.disconnect([pub, ...readers]);
    }
  }

  memory(): MemoryRow[] {
    if (this.pid === null) return [];
    return [{ process: 'redis-server', rssMiB: procUsage(this.pid)?.rssMiB ?? NaN, peakMiB: peakRssMiB(this.pid), note: 'peak since the server started, before this run too' }];
  }

  async close(): Promise<void> {
    this.disconnect([...this.conns]);
  }
}
