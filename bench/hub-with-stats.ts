// The hub as `swarm serve` runs it (same config loading, same startHub), plus group-commit
// statistics for the benchmark's --batch-stats: every commit's batch size and duration, printed as
// one "batch-stats JSON" line on stderr after the hub has drained and closed. It wraps the store's
// private GroupCommit from outside, so the hub's code is unchanged; timing each commit costs two
// hrtime calls per batch, not per send. The same for the stream benchmarks: the ack group commit
// ("ack-stats") and the dispatcher's hand-outs ("lease-stats": calls, requests per call,
// deliveries leased per call).
import { loadConfig } from '../src/config/load.js';
import { startHub } from '../src/server/serve.js';

interface CommitProbe {
  opts: { commit: (items: unknown[]) => unknown[] | Promise<unknown[]> };
}

const sizes: number[] = [];
const micros: number[] = [];

const { config } = loadConfig({ flags: { 'server.port': Number(process.env.BENCH_PORT ?? 0), 'server.host': '127.0.0.1' } });
const hub = await startHub(config);
/**
 * Wraps a group commit's commit function to time each batch: from the call to its outcome, the
 * writer thread's round trip included when the commit is asynchronous.
 */
function timeCommits(probe: CommitProbe, record: (items: unknown[], us: number) => void): void {
  const commit = probe.opts.commit;
  probe.opts.commit = (items) => {
    const t0 = process.hrtime.bigint();
    const done = (): void => record(items, Number(process.hrtime.bigint() - t0) / 1000);
    let out: unknown[] | Promise<unknown[]>;
    try {
      out = commit(items);
    } catch (e) {
      done();
      throw e;
    }
    if (out instanceof Promise) return out.finally(done);
    done();
    return out;
  };
}

const appends = (hub.hub.store as unknown as { appends?: CommitProbe }).appends;
if (appends === undefined) throw new Error('the store has no group commit to observe (is it the SQLite store?)');
timeCommits(appends, (items, us) => {
  micros.push(us);
  sizes.push(items.length);
});

// Acks: items are ack frames (or HTTP acks), each with its ids.
const ackSizes: number[] = [];
const ackIds: number[] = [];
const ackMicros: number[] = [];
const acks = (hub.hub.store as unknown as { acks?: CommitProbe }).acks;
if (acks !== undefined) {
  timeCommits(acks, (items, us) => {
    ackMicros.push(us);
    ackSizes.push(items.length);
    ackIds.push(items.reduce((n: number, it) => n + ((it as { messageIds?: unknown[] }).messageIds?.length ?? 0), 0));
  });
}

// Lease transactions of the dispatcher: one per pass, with a request per subscription that has credit.
const leaseReqs: number[] = [];
const leaseItems: number[] = [];
const leaseMicros: number[] = [];
const store = hub.hub.store as unknown as { lease: (reqs: unknown[], o: unknown) => Promise<Map<string, unknown[]>> };
const lease = store.lease.bind(store);
store.lease = async (reqs, o) => {
  const t0 = process.hrtime.bigint();
  const out = await lease(reqs, o);
  leaseMicros.push(Number(process.hrtime.bigint() - t0) / 1000);
  leaseReqs.push(reqs.length);
  let n = 0;
  for (const items of out.values()) n += items.length;
  leaseItems.push(n);
  return out;
};
process.stderr.write(`swarm hub (with batch stats) listening on ${hub.url}\n`);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

const stop = (): void => {
  // Keeps the process alive until close settles: without it, closing with streams open can leave
  // nothing referenced on the event loop and the process ends (code 0) before printing.
  const alive = setInterval(() => undefined, 1000);
  const t0 = Date.now();
  // Printed even when closing fails (e.g. a frame handled after the store closed), with the error.
  const closed = hub.close().then(
    () => 0,
    (e: unknown) => {
      process.stderr.write(`closing failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      return 1;
    },
  );
  void closed.then((code) => {
    clearInterval(alive);
    process.stderr.write(`hub-with-stats: close took ${Date.now() - t0} ms\n`);
    const items = sizes.reduce((a, b) => a + b, 0);
    const busyMs = micros.reduce((a, b) => a + b, 0) / 1000;
    const stats = {
      batches: sizes.length,
      items,
      meanBatch: items / sizes.length,
      p50Batch: pct(sizes, 50),
      p99Batch: pct(sizes, 99),
      maxBatch: pct(sizes, 100),
      commitMsTotal: busyMs,
      commitUsP50: pct(micros, 50),
      commitUsP99: pct(micros, 99),
      commitUsPerItem: (busyMs * 1000) / items,
    };
    process.stderr.write(`batch-stats ${JSON.stringify(stats)}\n`);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    process.stderr.write(
      `ack-stats ${JSON.stringify({ commits: ackSizes.length, frames: sum(ackSizes), ids: sum(ackIds), meanFrames: sum(ackSizes) / ackSizes.length, meanIds: sum(ackIds) / ackSizes.length, commitMsTotal: sum(ackMicros) / 1000, commitUsP50: pct(ackMicros, 50), commitUsP99: pct(ackMicros, 99), commitUsPerId: sum(ackMicros) / sum(ackIds) })}\n`,
    );
    process.stderr.write(
      `lease-stats ${JSON.stringify({ calls: leaseReqs.length, meanRequests: sum(leaseReqs) / leaseReqs.length, items: sum(leaseItems), meanItems: sum(leaseItems) / leaseReqs.length, emptyCalls: leaseItems.filter((n) => n === 0).length, msTotal: sum(leaseMicros) / 1000, usP50: pct(leaseMicros, 50), usP99: pct(leaseMicros, 99), usPerItem: sum(leaseMicros) / sum(leaseItems) })}\n`,
    );
    process.exit(code);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
