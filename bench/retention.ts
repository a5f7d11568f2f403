// `npm run bench -- --only retention`: sends while retention removes messages, beside the same
// sends without it. A store of --messages acknowledged messages (default 1,000,000, created over
// the last 100 days) is seeded once; each round copies it twice and starts `swarm serve`
// (synchronous=FULL) on each copy, alternating which goes first: one with retention off, one with
// `retention.messages=*=50` (about half of them go) starting a second after the hub. The same
// HTTP send load (50 connections) runs against each; the p99 of the sends is compared (target:
// with retention <= 1.2 x without, medians over the rounds). After each run with retention, the
// hub is stopped and the messages left are counted: how many went while the load ran.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Request } from 'autocannon';
import { DAY_MS } from '../src/domain/retention.js';
import { newId } from '../src/domain/ids.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { measure, type RunResult } from './load.js';
import { intOption, machine, median, parseFlags, runMain, table } from './report.js';
import { startHub } from './servers.js';

const TARGET_RATIO = 1.2;
const AGENTS = Array.from({ length: 8 }, (_, i) => `Agent-${i + 1}`);
const BODY = 'x'.repeat(256);

const HELP = [
  'npm run bench -- --only retention [--messages N] [--runs N] [--duration S] [--keep] [--json]',
  '  --messages N   acknowledged messages in the store (default 1000000)',
  '  --runs N       rounds, each with and without retention (default 3)',
  '  --duration S   measured seconds of send load per run (default 10)',
  '  --keep         keep the data directories',
  '  --json         machine-readable results on stdout',
  '',
].join('\n');

async function seed(dir: string, n: number, now: number, log: (l: string) => void): Promise<void> {
  const store = new SqliteStore({ dir, synchronous: 'normal' });
  for (const id of AGENTS) await store.createAgent({ id, role: 'agent', specialty: '', capabilities: [], createdAt: now - 101 * DAY_MS });
  const t0 = performance.now();
  const CHUNK = 2000;
  for (let i = 0; i < n; i += CHUNK) {
    const ids: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const at = now - 100 * DAY_MS + Math.floor((j / n) * 99 * DAY_MS);
      const id = newId(at);
      ids.push(id);
      const m = { id, sender: 'Agent-1', to: ['Agent-2'], kind: 'A2A' as const, type: 'text' as const, priority: 'regular' as const, subject: '', body: BODY, tags: [], threadId: id, replyTo: null, metadata: {}, createdAt: at, expiresAt: null, idempotencyKey: null };
      sends.push(store.appendMessage({ message: m, recipients: ['Agent-2'], requestHash: id }));
    }
    await Promise.all(sends);
    await store.ack('Agent-2', ids, now - DAY_MS);
    if ((i / CHUNK) % 100 === 0) log(`seeded ${i + ids.length} of ${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await store.close();
}

function count(dir: string): number {
  const db = new Database(join(dir, 'swarm.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

interface Run {
  retention: boolean;
  run: RunResult;
  removedDuringLoad: number | null;
}

async function main(): Promise<void> {
  const v = parseFlags(process.argv.slice(2), {
    messages: { type: 'string' },
    runs: { type: 'string' },
    duration: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const n = intOption('messages', v.messages, undefined, 1_000_000, 1000, 10_000_000);
  const rounds = intOption('runs', v.runs, undefined, 3, 1, 10);
  const durationS = intOption('duration', v.duration, undefined, 10, 1, 600);
  const log = (line: string): boolean => process.stderr.write(`bench retention: ${line}\n`);
  const watchdog = setTimeout(() => {
    log('did not finish within 40 min; giving up');
    process.exit(2);
  }, 2_400_000);
  const loadBefore = loadavg()[0] ?? NaN;
  const root = mkdtempSync(join(tmpdir(), 'swarm-bench-retention-'));
  if (!v.keep) process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const now = Date.now();
  const seeded = join(root, 'seeded');
  await seed(seeded, n, now, log);

  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const retention of r % 2 === 0 ? [false, true] : [true, false]) {
      const dir = join(root, `r${r}-${retention ? 'retention' : 'plain'}`);
      cpSync(seeded, dir, { recursive: true });
      // The copy (hundreds of MB) is written back before the measured run, not during it.
      execFileSync('sync');
      const env: Record<string, string> = retention ? { SWARM_RETENTION_MESSAGES: '*=50', SWARM_RETENTION_INTERVAL_SECONDS: '1' } : {};
      const hub = await startHub({ dataDir: dir, synchronous: 'full', env });
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` };
      const requests: Request[] = AGENTS.map((to) => ({ method: 'POST', path: '/v1/messages', headers, body: JSON.stringify({ to, body: BODY }) }));
      await new Promise((res) => setTimeout(res, 1500));
      const { run, warmupOk } = await measure({ url: hub.url, requests, connections: 50, durationS, warmupS: 1 });
      await hub.stop();
      const left = count(dir);
      const removed = retention ? n + warmupOk + run.ok - left : null;
      log(`round ${r + 1} ${retention ? 'with retention' : 'without'}: ${run.rate.toFixed(0)} sends/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms${removed === null ? '' : `; ${removed} messages removed by the time the hub stopped`}`);
      runs.push({ retention, run, removedDuringLoad: removed });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  clearTimeout(watchdog);
  const of = (ret: boolean) => runs.filter((x) => x.retention === ret).map((x) => x.run);
  const plain = of(false);
  const withRet = of(true);
  const ratio = median(withRet.map((x) => x.p99)) / median(plain.map((x) => x.p99));
  const m = machine();
  const result = { machine: m, loadBefore, loadAfter: loadavg()[0], messages: n, rounds, durationS, runs, p99Ratio: ratio, target: TARGET_RATIO, met: ratio <= TARGET_RATIO };
  if (v.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(`Retention under load: ${n} acknowledged messages, retention.messages=*=50 (about half go) beside no retention; ${rounds} round(s), 50 connections, ${durationS} s each\n`);
  process.stdout.write(`${m.cpus} × ${m.cpu}, node ${m.node}; load average (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? NaN).toFixed(2)} after\n\n`);
  process.stdout.write(
    table([
      ['', 'sends/s (median)', 'p50 ms', 'p99 ms', 'removed while loaded'],
      ['without retention', median(plain.map((x) => x.rate)).toFixed(0), median(plain.map((x) => x.p50)).toFixed(2), median(plain.map((x) => x.p99)).toFixed(2), '-'],
      ['with retention', median(withRet.map((x) => x.rate)).toFixed(0), median(withRet.map((x) => x.p50)).toFixed(2), median(withRet.map((x) => x.p99)).toFixed(2), runs.filter((x) => x.retention).map((x) => String(x.removedDuringLoad)).join(', ')],
    ]),
  );
  process.stdout.write(`\np99 with retention / without: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'})\n`);
}

runMain(main);
