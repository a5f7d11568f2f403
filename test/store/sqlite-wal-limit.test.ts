// The embedded store's `-wal` file stays bounded under sustained load and shrinks back once the
// load stops (store.walLimitMiB; src/store/sqlite/wal-limit.ts). Before, the checkpointer's PASSIVE
// checkpoints never let the WAL start over while sends kept coming: 1,000,000 sends left a 3.75 GB
// WAL. Here a limit of 8 MiB and 48 MiB of 16 KB sends from 16 clients: the file is sampled
// every 5 ms from outside the hub and must stay under the limit (the writer restarts it past half
// the limit; the other half is the stated slack, for the commit that crosses the half), and be
// truncated to nothing within a few seconds of the last send. The size is on /metrics too.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { registerAgents, within } from '../e2e/helpers.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

const MiB = 1024 * 1024;
const LIMIT_MIB = 8;

function walSize(dataDir: string): number {
  try {
    return statSync(join(dataDir, 'swarm.db-wal')).size;
  } catch {
    return 0;
  }
}

/** The swarm_store_wal_bytes gauge; -1 when /metrics has none. */
async function walGauge(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const m = /^swarm_store_wal_bytes (\d+)$/m.exec(text);
  return m === null ? -1 : Number(m[1]);
}

describe('the WAL under sustained load', () => {
  it(`stays under store.walLimitMiB (${LIMIT_MIB} MiB) while sends keep coming, and shrinks to nothing after`, async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await spawnHub(dataDir, { cwd: dir, env: { SWARM_AGENT_RATE: '0', SWARM_WAL_LIMIT_MIB: String(LIMIT_MIB) } });
    t.after(() => hub.kill());
    const AGENTS = ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-5'];
    await registerAgents(hub.url, hub.adminToken, AGENTS);

    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, walSize(dataDir))), 5);
    t.after(() => clearInterval(sampler));
    // 16 KB bodies until six times the limit is written (bounded: 40 s).
    const BODY = 16 * 1024;
    const TARGET = 6 * LIMIT_MIB * MiB;
    const body = 'x'.repeat(BODY);
    const started = Date.now();
    let written = 0;
    const failures: string[] = [];
    const gauges: number[] = [];
    const client = async (c: number): Promise<void> => {
      for (let i = 0; written < TARGET && Date.now() - started < 40_000; i++) {
        const res = await fetch(`${hub.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: AGENTS[(c + i) % AGENTS.length], body: `${c}/${i} ${body}` }),
          signal: AbortSignal.timeout(20_000),
        });
        await res.arrayBuffer();
        if (res.status === 201) written += BODY;
        else failures.push(String(res.status));
        if (c === 0 && i % 50 === 25) gauges.push(await walGauge(hub.url));
      }
    };
    await within(60_000, 'the load', Promise.all(Array.from({ length: 16 }, (_, c) => client(c))));
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`${(written / MiB).toFixed(0)} MiB of bodies in ${seconds.toFixed(1)} s; largest WAL ${(max / MiB).toFixed(2)} MiB`);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} sends refused`);
    assert.ok(written >= TARGET, `the load wrote ${(written / MiB).toFixed(1)} MiB of bodies in 40 s: too little to fill the WAL several times over`);
    assert.ok(max > 0 && max < LIMIT_MIB * MiB, `the WAL reached ${(max / MiB).toFixed(2)} MiB, over its ${LIMIT_MIB} MiB limit`);
    assert.ok(gauges.some((g) => g > 0) && gauges.every((g) => g < LIMIT_MIB * MiB), `swarm_store_wal_bytes under load: ${gauges.join(', ')}`);

    // Writes stopped: within a few seconds the checkpointer truncates the WAL to nothing.
    const until = Date.now() + 10_000;
    while (walSize(dataDir) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(walSize(dataDir), 0, 'the WAL was truncated once the writes stopped');
    assert.equal(await walGauge(hub.url), 0);
  });
});
