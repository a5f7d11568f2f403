// The hub as `swarm serve` runs it (same config loading, same startHub), plus group-commit
// statistics for the benchmark's --batch-stats: every commit's batch size and duration, printed as
// one "batch-stats JSON" line on stderr after the hub has drained and closed. It wraps the store's
// private GroupCommit from outside, so the hub's code is unchanged; timing each commit costs two
// hrtime calls per batch, not per send.
import { loadConfig } from '../src/config/load.js';
import { startHub } from '../src/server/serve.js';

interface CommitProbe {
  opts: { commit: (items: unknown[]) => unknown[] };
}

const sizes: number[] = [];
const micros: number[] = [];

const { config } = loadConfig({ flags: { 'server.port': Number(process.env.BENCH_PORT ?? 0), 'server.host': '127.0.0.1' } });
const hub = await startHub(config);
const appends = (hub.hub.store as unknown as { appends?: CommitProbe }).appends;
if (appends === undefined) throw new Error('the store has no group commit to observe (is it the SQLite store?)');
const commit = appends.opts.commit;
appends.opts.commit = (items) => {
  const t0 = process.hrtime.bigint();
  try {
    return commit(items);
  } finally {
    micros.push(Number(process.hrtime.bigint() - t0) / 1000);
    sizes.push(items.length);
  }
};
process.stderr.write(`swarm hub (with batch stats) listening on ${hub.url}\n`);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

const stop = (): void => {
  void hub.close().then(() => {
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
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
