// RabbitMQ in the peers benchmark (amqplib): quorum queues (Raft log, fsync before a publisher
// confirm) with persistent messages on confirm channels; consumers with manual acks. Fan-out goes
// through a fanout exchange to classic durable queues (100 quorum queues are 100 Raft groups).
// Every queue and exchange is named after the run and round, and deleted after its case.
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { peakRssMiB } from '../proc-group.js';
import { procUsage } from '../report.js';
import { closedLoop, Drain, FanoutLoop, OpenLoop, type Publish, preload, seqOf } from './loops.js';
import { bodyBytes, type CaseOptions, type Driver, findPid, type MemoryRow, type Row, within } from './system.js';

export const RABBIT_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const QUORUM = 'quorum queue, persistent messages: fsync before the publisher confirm';
const CLASSIC = 'classic durable queues, persistent messages: confirmed once on disk in every queue or consumed from it, whichever is first (here, mostly consumed)';
const QUORUM_ARGS = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

export class RabbitDriver implements Driver {
  readonly system = 'rabbitmq' as const;
  private readonly conns: ChannelModel[] = [];
  private pid: number | null = null;

  constructor(private readonly peerConnections: number) {}

  private async connect(): Promise<ChannelModel> {
    const c = await within(5000, `RabbitMQ at ${RABBIT_URL}`, () => amqp.connect(RABBIT_URL));
    // A connection error arrives as an event too; without a listener it would end the benchmark.
    c.on('error', () => undefined);
    this.conns.push(c);
    return c;
  }

  private async disconnect(cs: ChannelModel[]): Promise<void> {
    for (const c of cs) {
      this.conns.splice(this.conns.indexOf(c), 1);
      await c.close().catch(() => undefined);
    }
  }

  async open(): Promise<void> {
    await this.disconnect([await this.connect()]);
    this.pid = findPid('beam.smp', 'rabbit');
  }

  /** `n` connections, one confirm channel each. */
  private async confirmChannels(n: number): Promise<{ conns: ChannelModel[]; channels: ConfirmChannel[] }> {
    const conns = await Promise.all(Array.from({ length: n }, () => this.connect()));
    return { conns, channels: await Promise.all(conns.map((c) => c.createConfirmChannel())) };
  }

  private publisher(ch: ConfirmChannel, queue: string): Publish {
    return (seq) => new Promise((resolve, reject) => ch.sendToQueue(queue, bodyBytes(seq), { persistent: true }, (err) => (err ? reject(err) : resolve())));
  }

  /** Runs `f` with a fresh quorum queue, deleted afterwards. */
  private async withQueue<T>(name: string, f: (queue: string) => Promise<T>): Promise<T> {
    const c = await this.connect();
    const ch = await c.createChannel();
    await ch.assertQueue(name, QUORUM_ARGS);
    try {
      return await f(name);
    } finally {
      await ch.deleteQueue(name).catch(() => undefined);
      await this.disconnect([c]);
    }
  }

  async run(c: 'publish' | 'one-connection' | 'consume' | 'e2e' | 'fanout', o: CaseOptions): Promise<Row[]> {
    const base = `peers-${o.runId}-${o.round}`;
    switch (c) {
      case 'publish': {
        const rows: Row[] = [];
        for (const n of o.inFlight) {
          const conns = Math.min(n, this.peerConnections);
          rows.push(await this.withQueue(`${base}-publish-${n}`, async (q) => {
            const { conns: cs, channels } = await this.confirmChannels(conns);
            try {
              const m = await closedLoop({ lanes: channels.map((ch) => this.publisher(ch, q)), perLane: Math.ceil(n / conns), durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.pid });
              return { variant: `${conns} connections, confirm channel each, ${n} unconfirmed in all`, durability: QUORUM, m };
            } finally {
              await this.disconnect(cs);
            }
          }));
        }
        return rows;
      }
      case 'one-connection':
        return [await this.withQueue(`${base}-one`, async (q) => {
          const { conns, channels } = await this.confirmChannels(1);
          try {
            const m = await closedLoop({ lanes: [this.publisher(channels[0] as ConfirmChannel, q)], perLane: o.oneConnection, durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.pid });
            return { variant: `1 confirm channel, ${o.oneConnection} unconfirmed`, durability: QUORUM, m };
          } finally {
            await this.disconnect(conns);
          }
        })];
      case 'consume':
        return [await this.drain(o, `${base}-drain-batched`, 'batched'), await this.drain(o, `${base}-drain-single`, 'single')];
      case 'e2e':
        return [await this.withQueue(`${base}-e2e`, (q) => this.e2e(o, q))];
      case 'fanout':
        return [await this.fanout(o, `${base}-fan`)];
    }
  }

  private drain(o: CaseOptions, queue: string, mode: 'batched' | 'single'): Promise<Row> {
    return this.withQueue(queue, async (q) => {
      const { conns, channels } = await this.confirmChannels(this.peerConnections);
      try {
        await preload(channels.map((ch) => this.publisher(ch, q)), 32, o.messages, o.budgetS);
      } finally {
        await this.disconnect(conns);
      }
      const drain = new Drain(o.messages, this.pid);
      const conn = await this.connect();
      try {
        const ch = await conn.createChannel();
        await ch.prefetch(o.prefetch);
        let n = 0;
        drain.begin();
        await ch.consume(q, (msg: ConsumeMessage | null) => {
          if (msg === null) return;
          n += 1;
          drain.received();
          if (mode === 'single') ch.ack(msg);
          else if (n % o.ackBatch === 0 || n === o.messages) ch.ack(msg, true);
        });
        const m = await drain.wait(o.budgetS);
        const variant = mode === 'batched' ? `prefetch ${o.prefetch}, one ack (multiple) per ${o.ackBatch}` : `prefetch ${o.prefetch}, one ack per message`;
        return { variant, durability: QUORUM, m };
      } finally {
        await this.disconnect([conn]);
      }
    });
  }

  private async e2e(o: CaseOptions, q: string): Promise<Row> {
    const loop = new OpenLoop({ rate: o.rate, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    const { conns, channels } = await this.confirmChannels(1);
    const consumerConn = await this.connect();
    try {
      const ch = await consumerConn.createChannel();
      await ch.prefetch(100);
      await this.consumeBatched(ch, q, 50, 5, (msg) => loop.received(seqOf(msg.content)));
      const pub = channels[0] as ConfirmChannel;
      const m = await loop.run((seq) => pub.sendToQueue(q, bodyBytes(seq), { persistent: true }, (err) => err && loop.failed(err)));
      m.errors += m.lost;
      return { variant: '1 confirm channel → 1 consumer, prefetch 100, ack (multiple) every 50 or 5 ms', durability: QUORUM, m, note: `offered ${m.offered.toFixed(0)}/s, lost ${m.lost}` };
    } finally {
      await this.disconnect([...conns, consumerConn]);
    }
  }

  /** Consumes `q` on `ch`, acknowledging with `multiple` every `batch` messages or `ms` after the first unacknowledged one. */
  private async consumeBatched(ch: amqp.Channel, q: string, batch: number, ms: number, onMessage: (msg: ConsumeMessage) => void): Promise<void> {
    let last: ConsumeMessage | null = null;
    let pending = 0;
    let timer: NodeJS.Timeout | null = null;
    const flush = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      try {
        if (last !== null) ch.ack(last, true);
      } catch {
        // The case is over and its connection closing: nothing left to acknowledge for.
      }
      last = null;
      pending = 0;
    };
    // A timer still set when the case closes its connections must not fire into a closed channel.
    ch.once('close', () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    });
    await ch.consume(q, (msg) => {
      if (msg === null) return;
      onMessage(msg);
      last = msg;
      if (++pending >= batch) flush();
      else timer ??= setTimeout(flush, ms);
    });
  }

  private async fanout(o: CaseOptions, name: string): Promise<Row> {
    const loop = new FanoutLoop({ consumers: o.consumers, window: o.window, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    const admin = await this.connect();
    const ach = await admin.createChannel();
    const queues = Array.from({ length: o.consumers }, (_, i) => `${name}-${i + 1}`);
    const consumerConns = await Promise.all(Array.from({ length: Math.ceil(o.consumers / 10) }, () => this.connect()));
    const { conns, channels } = await this.confirmChannels(1);
    try {
      await ach.assertExchange(name, 'fanout', { durable: true });
      for (const q of queues) {
        await ach.assertQueue(q, { durable: true });
        await ach.bindQueue(q, name, '');
      }
      for (const [i, q] of queues.entries()) {
        const ch = await (consumerConns[Math.floor(i / 10)] as ChannelModel).createChannel();
        await ch.prefetch(100);
        await this.consumeBatched(ch, q, 50, 10, (msg) => loop.received(seqOf(msg.content)));
      }
      const pub = channels[0] as ConfirmChannel;
      const m = await loop.run((seq) => pub.publish(name, '', bodyBytes(seq), { persistent: true }, (err) => err && loop.failed(seq, err)));
      return { variant: `fanout exchange → ${o.consumers} queues, a consumer each (10 per connection), prefetch 100, ack (multiple) every 50 or 10 ms`, durability: CLASSIC, m, note: `${m.broadcasts.toFixed(0)} publishes/s` };
    } finally {
      await this.disconnect([...conns, ...consumerConns]);
      for (const q of queues) await ach.deleteQueue(q).catch(() => undefined);
      await ach.deleteExchange(name).catch(() => undefined);
      await this.disconnect([admin]);
    }
  }

  memory(): MemoryRow[] {
    if (this.pid === null) return [];
    return [{ process: 'rabbitmq (beam.smp)', rssMiB: procUsage(this.pid)?.rssMiB ?? NaN, peakMiB: peakRssMiB(this.pid), note: 'peak since the broker started, before this run too' }];
  }

  async close(): Promise<void> {
    await this.disconnect([...this.conns]);
  }
}
