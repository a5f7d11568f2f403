// Five `--role worker` processes on one PostgreSQL share one webhook target's 10,000 pushes as
// competing consumers: none is in flight twice at once, every worker takes part, and when one
// worker is killed (SIGKILL) halfway, the pushes it held come again once their leases run out:
// every message arrives, and only those (at most targets.concurrency) arrive twice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub, type HubProcess } from '../support/process.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { startReceiver } from '../support/webhook-receiver.js';
import { http } from '../streams/clients.js';

const MESSAGES = 10_000;
const WORKERS = 5;
const CONCURRENCY = 4;

describe('delivery targets with five workers on PostgreSQL', () => {
  it(`share ${MESSAGES.toLocaleString('en')} pushes, none in flight twice at once; a worker killed halfway loses none`, { timeout: 240_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_workers');
    const dir = tempDir();
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '4', SWARM_AGENT_RATE: '0', SWARM_ADDRESS_RATE: '0', SWARM_TARGETS_LEASE_SECONDS: '5', SWARM_TARGETS_CONCURRENCY: String(CONCURRENCY) };
    const api = await spawnHub(join(dir, 'api'), { env, args: ['--role', 'api'] });
    t.after(() => api.stop());
    let secret = '';
    const rx = await startReceiver(() => secret);
    t.after(() => rx.close());
    rx.mode = 'slow';
    rx.slowMs = 2;
    const admin = api.adminToken;
    for (const id of ['Agent-1', 'Agent-2']) assert.equal((await http(api.url, 'POST', '/v1/agents', { token: admin, body: { id } })).status, 201);
    const added = await http(api.url, 'POST', '/v1/agents/Agent-2/targets', { token: admin, body: { kind: 'webhook', url: rx.url } });
    assert.equal(added.status, 201, added.body);
    secret = added.json.secret as string;

    // Sent before the workers start, so that all five compete for a full queue from the first lease.
    const ids: string[] = [];
    const sendOne = async (i: number): Promise<void> => {
      const r = await http(api.url, 'POST', '/v1/messages', { token: admin, as: 'Agent-1', body: { to: 'Agent-2', body: `push ${i}` } });
      assert.equal(r.status, 201, r.body);
      ids.push(r.json.message.id as string);
    };
    for (let i = 0; i < MESSAGES; i += 50) await Promise.all(Array.from({ length: Math.min(50, MESSAGES - i) }, (_, j) => sendOne(i + j)));

    const workers: HubProcess[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const worker = await spawnHub(join(dir, `worker-${w}`), { env, args: ['--role', 'worker'] });
      t.after(() => worker.stop());
      workers.push(worker);
    }
    await rx.waitDelivered(MESSAGES / 2, 180_000);
    const victim = workers[0] as HubProcess;
    await victim.kill();
    const atKill = rx.pushes.length;
    await rx.waitDelivered(MESSAGES, 180_000);
    assert.deepEqual(rx.overlaps, [], 'no message in flight twice at once');
    const twice = rx.pushes.length - MESSAGES;
    t.diagnostic(`${atKill} pushes when a worker was killed; ${twice} pushed twice`);
    assert.ok(twice >= 0 && twice <= CONCURRENCY, `only the killed worker's pushes came twice: ${twice}`);
    assert.deepEqual([...rx.delivered].sort(), [...ids].sort());
    assert.equal(rx.pushes.filter((p) => !p.verified).length, 0);
    const perWorker: number[] = [];
    for (const w of workers.slice(1)) {
      const text = await (await fetch(`${w.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('swarm_target_pushes_total{kind="webhook",outcome="ok"}'));
      perWorker.push(Number(line?.split(' ')[1] ?? 0));
    }
    t.diagnostic(`pushes per worker: ${perWorker.join(', ')}`);
    assert.ok(perWorker.every((n) => n > 0), `every worker left pushed: ${perWorker.join(', ')}`);
    assert.ok(perWorker.reduce((a, b) => a + b, 0) > MESSAGES / 2, 'the four left pushed the second half');
  });
});
