// NATS in the peers benchmark (@nats-io/transport-node, @nats-io/jetstream): JetStream streams on
// file storage, publishes awaited for their PubAck (the server acknowledges once the message is in
// its file, before fsync: by default it syncs every 2 minutes), pull consumers with explicit acks.
// Fan-out uses core NATS subjects (nothing stored, at most once): JetStream would need 100
// consumers on one stream. Every stream is named after the run and round and deleted after its case.
import { AckPolicy, jetstream, type JetStreamManager, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { peakRssMiB } from '../proc-group.js';
import { procUsage } from '../report.js';
import { closedLoop, Drain, FanoutLoop, OpenLoop, type Publish, preload, seqOf } from './loops.js';
import { bodyBytes, type CaseOptions, type Driver, findPid, type MemoryRow, type Row, within } from './system.js';

export const NATS_URL = process.env.BENCH_NATS_URL ?? '127.0.0.1:4222';
const JETSTREAM = 'JetStream, file storage: PubAck once written, before fsync (sync every 2 min by default)';

export class NatsDriver implements Driver {
  readonly system = 'nats' as const;
  private readonly conns = new Set<NatsConnection>();
  private jsm: JetStreamManager | null = null;
  private pid: number | null = null;

  constructor(private readonly peerConnections: number) {}

  private async connect(): Promise<NatsConnection> {
    const nc = await within(5000, `NATS at ${NATS_URL}`, () => connect({ servers: NATS_URL, reconnect: false }));
    this.conns.add(nc);
    return nc;
  }

  private async disconnect(ncs: NatsConnection[]): Promise<void> {
    for (const nc of ncs) {
      this.conns.delete(nc);
      await nc.close().catch(() => undefined);
    }
  }

  async open(): Promise<void> {
    const nc = await this.connect();
    this.jsm = await within(5000, 'JetStream (is the server started with -js?)', () => jetstreamManager(nc));
    this.pid = findPid('nats-server');
  }

  private get manager(): JetStreamManager {
    if (this.jsm === null) throw new Error('not connected');
    return this.jsm;
  }

  /** Runs `f` with a fresh file-storage stream on `subject`, deleted afterwards. */
  private async withStream<T>(name: string, f: (subject: string) => Promise<T>): Promise<T> {
    const subject = name.toLowerCase().replaceAll('_', '.');
    await this.manager.streams.add({ name, subjects: [subject], storage: StorageType.File });
    try {
      return await f(subject);
    } finally {
      await this.manager.streams.delete(name).catch(() => undefined);
    }
  }

  private publisher(nc: NatsConnection, subject: string): Publish {
    const js = jetstream(nc);
    return async (seq) => {
      await js.publish(subject, bodyBytes(seq));
    };
  }

  async run(c: 'publish' | 'one-connection' | 'consume' | 'e2e' | 'fanout', o: CaseOptions): Promise<Row[]> {
    const base = `PEERS_${o.runId}_${o.round}`;
    switch (c) {
      case 'publish': {
        const rows: Row[] = [];
        for (const n of o.inFlight) {
          const k = Math.min(n, this.peerConnections);
          rows.push(await this.closed(`${base}_PUB${n}`, k, Math.ceil(n / k), o, `${k} connections, ${n} PubAcks outstanding in all`));
        }
        return rows;
      }
      case 'one-connection':
        return [await this.closed(`${base}_ONE`, 1, o.oneConnection, o, `1 connection, ${o.oneConnection} PubAcks outstanding`)];
      case 'consume':
        return [await this.drain(o, `${base}_DRAINB`, 'batched'), await this.drain(o, `${base}_DRAINS`, 'single')];
      case 'e2e':
        return [await this.withStream(`${base}_E2E`, (subject) => this.e2e(o, `${base}_E2E`, subject))];
      case 'fanout':
        return [await this.fanout(o, `peers.${o.runId}.${o.round}.fan`)];
    }
  }

  private closed(stream: string, conns: number, perLane: number, o: CaseOptions, variant: string): Promise<Row> {
    return this.withStream(stream, async (subject) => {
      const ncs = await Promise.all(Array.from({ length: conns }, () => this.connect()));
      try {
        const m = await closedLoop({ lanes: ncs.map((nc) => this.publisher(nc, subject)), perLane, durationS: o.durationS, warmupS: o.warmupS, maxOps: Infinity, cpuPid: this.pid });
        return { variant, durability: JETSTREAM, m };
      } finally {
        await this.disconnect(ncs);
      }
    });
  }

  /**
   * Batched: a consumer with AckPolicy.All, where one ack covers every earlier message, acked every
   * `ackBatch`; single: AckPolicy.Explicit, one ack per message.
   */
  private drain(o: CaseOptions, stream: string, mode: 'batched' | 'single'): Promise<Row> {
    return this.withStream(stream, async (subject) => {
      const ncs = await Promise.all(Array.from({ length: this.peerConnections }, () => this.connect()));
      try {
        await preload(ncs.map((nc) => this.publisher(nc, subject)), 32, o.messages, o.budgetS);
      } finally {
        await this.disconnect(ncs);
      }
      const policy = mode === 'batched' ? AckPolicy.All : AckPolicy.Explicit;
      await this.manager.consumers.add(stream, { durable_name: 'drain', ack_policy: policy, max_ack_pending: Math.max(1000, o.prefetch * 2) });
      const nc = await this.connect();
      const drain = new Drain(o.messages, this.pid);
      try {
        const consumer = await jetstream(nc).consumers.get(stream, 'drain');
        drain.begin();
        const messages = await consumer.consume({ max_messages: o.prefetch });
        void (async () => {
          let n = 0;
          for await (const msg of messages) {
            n += 1;
            drain.received();
            if (mode === 'single' || n % o.ackBatch === 0 || n === o.messages) msg.ack();
            if (n >= o.messages) break;
          }
        })();
        const m = await drain.wait(o.budgetS);
        await messages.close().catch(() => undefined);
        const variant = mode === 'batched' ? `pull consumer, ${o.prefetch} pulled at a time, AckPolicy.All: one ack per ${o.ackBatch}` : `pull consumer, ${o.prefetch} pulled at a time, one ack per message (AckPolicy.Explicit)`;
        return { variant, durability: JETSTREAM, m };
      } finally {
        await this.disconnect([nc]);
      }
    });
  }

  private async e2e(o: CaseOptions, stream: string, subject: string): Promise<Row> {
    const loop = new OpenLoop({ rate: o.rate, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    await this.manager.consumers.add(stream, { durable_name: 'e2e', ack_policy: AckPolicy.Explicit });
    const pubConn = await this.connect();
    const subConn = await this.connect();
    try {
      const messages = await (await jetstream(subConn).consumers.get(stream, 'e2e')).consume({ max_messages: 100 });
      void (async () => {
        for await (const msg of messages) {
          loop.received(seqOf(msg.data));
          msg.ack();
        }
      })();
      const js = jetstream(pubConn);
      const m = await loop.run((seq) => void js.publish(subject, bodyBytes(seq)).catch(loop.failed));
      await messages.close().catch(() => undefined);
      m.errors += m.lost;
      return { variant: '1 connection publishing → pull consumer (100 pulled at a time), one ack per message', durability: JETSTREAM, m, note: `offered ${m.offered.toFixed(0)}/s, lost ${m.lost}` };
    } finally {
      await this.disconnect([pubConn, subConn]);
    }
  }

  private async fanout(o: CaseOptions, subject: string): Promise<Row> {
    const loop = new FanoutLoop({ consumers: o.consumers, window: o.window, durationS: o.durationS, warmupS: o.warmupS, cpuPid: this.pid });
    const subs = await Promise.all(Array.from({ length: o.consumers }, () => this.connect()));
    const pub = await this.connect();
    try {
      for (const nc of subs) nc.subscribe(subject, { callback: (err, msg) => (err === null ? loop.received(seqOf(msg.data)) : loop.failed(-1, err)) });
      await Promise.all(subs.map((nc) => nc.flush()));
      const m = await loop.run((seq) => pub.publish(subject, bodyBytes(seq)));
      return { variant: `core NATS subject → ${o.consumers} connections subscribed`, durability: 'core NATS: nothing stored, no acks, at most once', m, note: `${m.broadcasts.toFixed(0)} publishes/s` };
    } finally {
      await this.disconnect([pub, ...subs]);
    }
  }

  memory(): MemoryRow[] {
    if (this.pid === null) return [];
    return [{ process: 'nats-server', rssMiB: procUsage(this.pid)?.rssMiB ?? NaN, peakMiB: peakRssMiB(this.pid), note: 'peak since the server started, before this run too' }];
  }

  async close(): Promise<void> {
    await this.disconnect([...this.conns]);
  }
}
