// A child process of the stream benchmarks holding some of the consumers (bench/subscribers.ts),
// for when one process cannot read every delivery. It reports receive times in batches every
// `reportMs` over IPC (structured clone of typed arrays); the times are on the monotonic clock
// the parent also reads.
import { type ChildReport, type ChildRequest, Consumer, type ConsumerCounts } from './subscribers.js';

let seqs: number[] = [];
let times: number[] = [];
let consumers: Consumer[] = [];

const counts = (): ConsumerCounts => {
  const out: ConsumerCounts = { received: 0, ackFrames: 0, ackedIds: 0, errors: 0, firstError: null };
  for (const c of consumers) {
    out.received += c.counts.received;
    out.ackFrames += c.counts.ackFrames;
    out.ackedIds += c.counts.ackedIds;
    out.errors += c.counts.errors;
    out.firstError ??= c.counts.firstError;
  }
  return out;
};

const report = (m: ChildReport): void => {
  if (process.connected) process.send?.(m);
};

const flush = (): void => {
  if (seqs.length === 0) return;
  report({ type: 'batch', seqs: Int32Array.from(seqs), times: Float64Array.from(times), counts: counts() });
  seqs = [];
  times = [];
};

process.on('message', (m: ChildRequest) => {
  if (m.type === 'start') {
    consumers = m.tokens.map(
      (t) =>
        new Consumer(m.options, t, (seq, t2) => {
          seqs.push(seq);
          times.push(t2);
        }),
    );
    setInterval(flush, m.reportMs);
    Promise.all(consumers.map((c) => c.connect())).then(
      () => report({ type: 'ready' }),
      (e: unknown) => report({ type: 'failed', error: e instanceof Error ? e.message : String(e) }),
    );
  } else {
    flush();
    for (const c of consumers) c.close();
    report({ type: 'stopped', counts: counts() });
    setTimeout(() => process.exit(0), 50);
  }
});
// The benchmark is gone: nothing left to report to.
process.on('disconnect', () => process.exit(0));
