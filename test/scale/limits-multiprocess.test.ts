// Limits hold for the hub as a whole, not per process: an agent sending through three api
// processes gets limits.agentRate (burst plus rate × time) and never more; a loop between two
// agents whose messages go through different processes is stopped at limits.loopRate, although
// no single process sees both directions of it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { adminTokenOf, type HubProcess, spawnHub } from '../support/process.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function apis(t: TestContext, env: Record<string, string>): Promise<HubProcess[]> {
  const schema = testSchema(t, 'swarm_lim');
  const dir = tempDir();
  const all = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '3', ...env };
  const procs = await Promise.all([0, 1, 2].map((i) => spawnHub(join(dir, `p${i}`), { env: all, args: ['--role', 'api', '--port', '0'] })));
  t.after(() => Promise.all(procs.map((p) => p.kill())));
  return procs;
}

async function post(url: string, token: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, json: await r.json() };
}

/** Registers an agent through the first process, with the admin token (minted by one of them). */
async function agent(procs: HubProcess[], id: string): Promise<string> {
  const r = await post(procs[0]!.url, adminTokenOf(procs), '/v1/agents', { id });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.token as string;
}

describe('limits across api processes', () => {
  it('an agent sending through three processes is admitted at most burst + rate × time', { timeout: 60_000 }, async (t) => {
    const RATE = 10;
    const BURST = 10;
    const procs = await apis(t, { SWARM_AGENT_RATE: String(RATE), SWARM_AGENT_BURST: String(BURST) });
    const sender = await agent(procs, 'Agent-1');
    await agent(procs, 'Agent-2');
    // 3 s of sends as fast as 12 concurrent clients go, round robin over the processes; bounded.
    const started = performance.now();
    let admitted = 0;
    let refused = 0;
    let other = 0;
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let n = 0; performance.now() - started < 3000 && n < 2000; n++) {
          const r = await post(procs[(w + n) % 3]!.url, sender, '/v1/messages', { to: 'Agent-2', body: `m ${w}.${n}` });
          if (r.status === 201) admitted += 1;
          else if (r.status === 429) refused += 1;
          else other += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const bound = BURST + RATE * seconds;
    t.diagnostic(`${admitted} admitted, ${refused} refused in ${seconds.toFixed(2)} s; the hub-wide bound is ${bound.toFixed(1)}`);
    assert.equal(other, 0);
    assert.ok(refused > 100, 'the clients pushed well past the limit');
    assert.ok(admitted <= bound, `admitted ${admitted} > burst + rate × time = ${bound.toFixed(1)} (per process it would be ~${Math.round(3 * bound)})`);
    // Chunks of a tenth of a second (one token at this rate) may be held unspent by a process.
    assert.ok(admitted >= bound - 3 - RATE * 0.5, `admitted ${admitted}: far below the bound ${bound.toFixed(1)}`);
  });

  it('a loop whose two directions go through different processes is stopped at limits.loopRate', { timeout: 60_000 }, async (t) => {
    const procs = await apis(t, { SWARM_LOOP_RATE: '6', SWARM_LOOP_WINDOW: '60' });
    const a = await agent(procs, 'Agent-1');
    const b = await agent(procs, 'Agent-2');
    // Agent-1 always writes through process 1, Agent-2 always answers through process 2.
    let stoppedAt = 0;
    for (let n = 1; n <= 20 && stoppedAt === 0; n++) {
      const [url, token, to] = n % 2 === 1 ? [procs[1]!.url, a, 'Agent-2'] : [procs[2]!.url, b, 'Agent-1'];
      const r = await post(url, token, '/v1/messages', { to, body: `ping ${n}` });
      if (r.status === 429) {
        assert.match(r.json.detail, /loop guard/);
        stoppedAt = n;
      } else assert.equal(r.status, 201, JSON.stringify(r.json));
      await sleep(100); // the other process hears of each send over LISTEN/NOTIFY
    }
    t.diagnostic(`stopped at send ${stoppedAt}`);
    // Round trips count 2 messages each: the 7th message round the loop exceeds 6.
    assert.ok(stoppedAt >= 7 && stoppedAt <= 8, `stopped at send ${stoppedAt}, expected the 7th or 8th`);
    // The hold reaches every process: Agent-1 is refused through process 0 too.
    const again = await post(procs[0]!.url, a, '/v1/messages', { to: 'Agent-2', body: 'still looping?' });
    assert.equal(again.status, 429);
  });
});
