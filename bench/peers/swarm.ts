// Swarm in the peers benchmark: one hub (`swarm serve`, SQLite synchronous=FULL) for every case
// but fan-out, the bare Fastify route beside it as the HTTP baseline, and a second hub for the
// fan-out case, so that its broadcasts (`to: "all"`) reach exactly the consumers and not the agents
// the other cases registered. Sends go over HTTP (autocannon, bench/load.ts) or as WebSocket
// `send` frames (swarm-socket.ts); consumers are bench/subscribers.ts's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'autocannon';
import { Sender } from '../http-send.js';
import { measure, type RunResult } from '../load.js';
import { peakRssMiB } from '../proc-group.js';
import { CpuMeter, procUsage } from '../report.js';
import { cpuProfArgs, registerAgents, type ServerProcess, startBare, startHub } from '../servers.js';
import { benchBody, Consumer, startConsumers } from '../subscribers.js';
import { closedLoop, Drain, FanoutLoop, type Measured, OpenLoop, type Publish, preload } from './loops.js';
import { openSockets, type SwarmSocket } from './swarm-socket.js';
import type { CaseOptions, Driver, MemoryRow, Row } from './system.js';

const DURABLE = 'SQLite synchronous=FULL: fsync per group commit, before the answer';
const SINKS = Array.from({ length: 8 }, (_, i) => `Sink-${i + 1}`);
// Many sockets for one sending agent: the benchmark's, not a limit under test.
/**
 * E2e: one sender connection, as for the brokers (one confirm channel, one NATS connection): the
 * hub pipelines one socket's send frames, so the open loop's sends all go over it.
 */
const E2E_SOCKETS = Number(process.env.BENCH_PEERS_E2E_SOCKETS ?? 1);
const HUB_ENV = { SWARM_MAX_STREAMS: '1000' };

type Hub = ServerProcess & { adminToken: string };

export class SwarmDriver implements Driver {
  readonly system = 'swarm' as const;
  private readonly dirs: string[] = [];
  private hub: Hub | null = null;
  private bare: ServerProcess | null = null;
  private fan: { hub: Hub; tokens: string[] } | null = null;
  private senderToken = '';
  private idleRssMiB = NaN;

  constructor(
    private readonly keep: boolean,
    /** --cpu-prof DIR: each hub runs under node --cpu-prof and writes its threads' profiles there. */
    private readonly cpuProfDir: string | undefined = undefined,
  ) {}

  private async startHub(): Promise<Hub> {
    const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-peers-'));
    this.dirs.push(dataDir);
    return startHub({ dataDir, synchronous: 'full', env: HUB_ENV, nodeArgs: cpuProfArgs(this.cpuProfDir) });
  }

  async open(): Promise<void> {
    this.hub = await this.startHub();
    this.bare = await startBare();
    const tokens = await registerAgents(this.hub.url, this.hub.adminToken, ['Sender', ...SINKS]);
    this.senderToken = tokens.get('Sender') as string;
    await new Promise((r) => setTimeout(r, 1000));
    this.idleRssMiB = procUsage(this.hub.proc.pid ?? -1)?.rssMiB ?? NaN;
  }

  private get h(): Hub {
    if (this.hub === null) throw new Error('the hub is not running');
    return this.hub;
  }

  async run(c: 'publish' | 'one-connection' | 'consume' | 'e2e' | 'fanout', o: CaseOptions): Promise<Row[]> {
    switch (c) {
      case 'publish':
        return this.publish(o);
      case 'one-connection': {
        const [socket] = await openSockets(this.h.url, this.senderToken, 1);
        try {
          const m = await closedLoop({ lanes: [this.wsPublish(socket as SwarmSocket)], perLane: o.oneConnection, durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.h.proc.pid ?? null });
          return [{ variant: `WebSocket, 1 socket × ${o.oneConnection} send frames`, durability: DURABLE, m }];
        } finally {
          socket?.close();
        }
      }
      case 'consume':
        return [await this.drain(o, 'batched'), await this.drain(o, 'single')];
      case 'e2e':
        return [await this.e2e(o)];
      case 'fanout':
        return [await this.fanout(o)];
    }
  }

  private wsPublish(socket: SwarmSocket, to?: string): Publish {
    return (seq) => socket.send(to ?? (SINKS[seq % SINKS.length] as string), benchBody(seq, 256));
  }

  /** autocannon at `connections`: a discarded warm-up, then the measured run with the server's CPU beside it. */
  private async http(url: string, token: string | null, connections: number, pid: number | null, o: CaseOptions): Promise<Measured> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const requests: Request[] = SINKS.map((to) => ({ method: 'POST', path: '/v1/messages', headers, body: JSON.stringify({ to, body: benchBody(0, 256) }) }));
    if (o.warmupS > 0) await measure({ url, requests, connections, durationS: o.warmupS, warmupS: 0 });
    const cpu = new CpuMeter({ server: pid ?? -1, client: process.pid });
    cpu.mark();
    const { run } = await measure({ url, requests, connections, durationS: o.durationS, warmupS: 0 });
    const shares = cpu.read();
    return fromRun(run, shares.server?.cpuPct ?? NaN, shares.client?.cpuPct ?? NaN);
  }

  private async publish(o: CaseOptions): Promise<Row[]> {
    const rows: Row[] = [];
    const bare = this.bare as ServerProcess;
    for (const n of o.inFlight) {
      rows.push({ variant: `bare Fastify route, HTTP, ${n} connections`, durability: 'none: no auth, no validation, no store', m: await this.http(bare.url, null, n, bare.proc.pid ?? null, o) });
      rows.push({ variant: `HTTP, ${n} connections`, durability: DURABLE, m: await this.http(this.h.url, this.h.adminToken, n, this.h.proc.pid ?? null, o) });
      const sockets = await openSockets(this.h.url, this.senderToken, n);
      try {
        const m = await closedLoop({ lanes: sockets.map((s) => this.wsPublish(s)), perLane: 1, durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.h.proc.pid ?? null });
        rows.push({ variant: `WebSocket, ${n} sockets × 1 send frame`, durability: DURABLE, m });
      } finally {
        for (const s of sockets) s.close();
      }
    }
    return rows;
  }

  /** Pre-loads `messages` to a new agent over 50 sockets, then drains them over one WebSocket. */
  private async drain(o: CaseOptions, mode: 'batched' | 'single'): Promise<Row> {
    const agent = `Drain-${o.runId}-${o.round}-${mode}`;
    const token = (await registerAgents(this.h.url, this.h.adminToken, [agent])).get(agent) as string;
    const sockets = await openSockets(this.h.url, this.senderToken, 50);
    try {
      const p = await preload(sockets.map((s) => this.wsPublish(s, agent)), 1, o.messages, o.budgetS);
      o.log(`swarm: pre-loaded ${o.messages} at ${p.rate.toFixed(0)}/s`);
    } finally {
      for (const s of sockets) s.close();
    }
    const drain = new Drain(o.messages, this.h.proc.pid ?? null);
    const consumer = new Consumer({ url: this.h.url, prefetch: o.prefetch, ackBatch: mode === 'batched' ? o.ackBatch : 1, ackEveryMs: 5 }, token, () => drain.received());
    drain.begin();
    try {
      await consumer.connect();
      const m = await drain.wait(o.budgetS);
      m.errors += consumer.counts.errors;
      m.firstError ??= consumer.counts.firstError;
      const variant = mode === 'batched' ? `WebSocket, prefetch ${o.prefetch}, ack frames of up to ${o.ackBatch} ids` : `WebSocket, prefetch ${o.prefetch}, one ack frame per message`;
      return { variant, durability: `${DURABLE}; acks group-committed without an fsync of their own (docs/operations.md: a lost ack means a redelivery)`, m, note: `${consumer.counts.ackFrames} ack frames` };
    } finally {
      consumer.close();
    }
  }

  /**
   * Open loop: `send` frames over 50 WebSockets in turn, to one agent with one WebSocket consumer.
   * WebSocket rather than HTTP: the way a client that cares for latency sends, and the path the
   * issue's targets name (bench/latency.ts measures the HTTP path).
   */
  private async e2e(o: CaseOptions): Promise<Row> {
    const agent = `E2e-${o.runId}-${o.round}`;
    const token = (await registerAgents(this.h.url, this.h.adminToken, [agent])).get(agent) as string;
    const loop = new OpenLoop({ rate: o.rate, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.h.proc.pid ?? null });
    const consumer = new Consumer({ url: this.h.url, prefetch: 100, ackBatch: 50, ackEveryMs: 5 }, token, (seq) => loop.received(seq));
    const sockets = await openSockets(this.h.url, this.senderToken, E2E_SOCKETS);
    try {
      await consumer.connect();
      const m = await loop.run((seq) => void (sockets[seq % sockets.length] as SwarmSocket).send(agent, benchBody(seq, 256)).catch(loop.failed));
      m.errors += consumer.counts.errors + m.lost;
      return { variant: `send frames over ${E2E_SOCKETS === 1 ? '1 WebSocket' : `${E2E_SOCKETS} WebSockets in turn`} → 1 WebSocket consumer, prefetch 100, acks every 50 or 5 ms`, durability: DURABLE, m, note: `offered ${m.offered.toFixed(0)}/s, lost ${m.lost}` };
    } finally {
      for (const s of sockets) s.close();
      consumer.close();
    }
  }

  /** Broadcasts (`to: "all"`, admin over HTTP) to `consumers` agents on a hub of their own, one WebSocket each. */
  private async fanout(o: CaseOptions): Promise<Row> {
    if (this.fan === null) {
      const hub = await this.startHub();
      const agents = Array.from({ length: o.consumers }, (_, i) => `Fan-${String(i + 1).padStart(3, '0')}`);
      const tokens = await registerAgents(hub.url, hub.adminToken, agents);
      this.fan = { hub, tokens: agents.map((a) => tokens.get(a) as string) };
    }
    const { hub, tokens } = this.fan;
    // Seqs of this round only: deliveries left unacknowledged by an earlier round's consumers come back and are not counted.
    const loop = new FanoutLoop({ consumers: o.consumers, window: o.window, durationS: o.durationS, warmupS: o.warmupS, cpuPid: hub.proc.pid ?? null, seqBase: o.round * 10_000_000 });
    const pool = await startConsumers({ url: hub.url, prefetch: 100, ackBatch: 50, ackEveryMs: 10 }, tokens, 0, (seq) => loop.received(seq));
    const sender = new Sender(hub.url, hub.adminToken, o.window);
    try {
      const m = await loop.run((seq) =>
        sender.send({ to: 'all', body: benchBody(seq, 256) }, (r) => {
          if (r.status < 200 || r.status >= 300) loop.failed(seq, new Error(`HTTP ${r.status}: ${r.error ?? ''}`));
        }),
      );
      m.errors += pool.counts().errors;
      return { variant: `broadcast (to: "all", HTTP) → ${o.consumers} WebSockets, prefetch 100, acks every 50 or 10 ms`, durability: DURABLE, m, note: `${m.broadcasts.toFixed(0)} broadcasts/s` };
    } finally {
      sender.close();
      await pool.close();
    }
  }

  memory(): MemoryRow[] {
    const rows: MemoryRow[] = [];
    const pid = this.hub?.proc.pid;
    if (pid !== undefined) rows.push({ process: 'swarm hub', rssMiB: procUsage(pid)?.rssMiB ?? NaN, peakMiB: peakRssMiB(pid), note: `idle ${this.idleRssMiB.toFixed(0)} MiB after start` });
    const fpid = this.fan?.hub.proc.pid;
    if (fpid !== undefined) rows.push({ process: 'swarm hub (fan-out)', rssMiB: procUsage(fpid)?.rssMiB ?? NaN, peakMiB: peakRssMiB(fpid), note: '' });
    return rows;
  }

  async close(): Promise<void> {
    await this.bare?.stop();
    for (const hub of [this.hub, this.fan?.hub]) {
      if (hub === null || hub === undefined) continue;
      const code = await hub.stop();
      if (code !== 0) process.stderr.write(`bench peers: a hub exited with ${code}:\n${hub.output().slice(-2000)}\n`);
    }
    if (!this.keep) for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

function fromRun(r: RunResult, cpuPct: number, clientCpuPct: number): Measured {
  const errors = r.non2xx + r.errors + r.timeouts;
  return { rate: r.rate, p50: r.p50, p99: r.p99, max: r.max, errors, firstError: errors > 0 ? JSON.stringify(r.statusCodes) : null, cpuPct, clientCpuPct, count: r.ok };
}
