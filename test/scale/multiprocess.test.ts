// Scale-out for real: several `swarm serve` processes (api and worker roles) on one PostgreSQL.
// Messages sent through any api process reach subscribers connected to any other, once each;
// agents racing `task next` through different processes never get the same task; killing an api
// process mid-load loses nothing that was answered, and its clients resume on another.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { adminTokenOf, type HubProcess, spawnHub } from '../support/process.js';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function cluster(t: TestContext, roles: ('api' | 'worker')[]): Promise<{ procs: HubProcess[]; apis: HubProcess[]; schema: string }> {
  const schema = testSchema(t, 'swarm_mp');
  const dir = tempDir();
  // The per-agent limit holds for the hub as a whole: this test's 240 quick sends by one agent
  // need a burst above the default 100.
  const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_VISIBILITY_SECONDS: '3', SWARM_POOL_SIZE: '4', SWARM_AGENT_BURST: '1000' };
  // All at once, on an empty schema: the migrations must run exactly once.
  const procs = await Promise.all(roles.map((role, i) => spawnHub(join(dir, `p${i}`), { env, args: ['--role', role, '--port', '0'] })));
  t.after(() => Promise.all(procs.map((p) => p.kill())));
  return { procs, apis: procs.filter((_, i) => roles[i] === 'api'), schema };
}

async function post(url: string, token: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  return { status: r.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('several hub processes on one PostgreSQL', () => {
  it('migrate once, deliver across processes exactly once, and never double-claim a task', { timeout: 120_000 }, async (t) => {
    const { apis, schema } = await cluster(t, ['api', 'api', 'api', 'worker', 'worker']);
    const migrations = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`);
    const distinct = await query<{ n: number }>(`SELECT count(DISTINCT version)::int AS n FROM "${schema}".schema_migrations`);
    assert.equal(migrations[0]?.n, distinct[0]?.n, 'each migration recorded once');
    const [a0, a1, a2] = apis as [HubProcess, HubProcess, HubProcess];
    const admin = adminTokenOf(apis);

    const tokens = new Map<string, string>();
    await post(a0.url, admin, '/v1/agents', { id: 'Agent-4', role: 'captain' }).then((r) => tokens.set('Agent-4', r.json.token));
    for (let i = 1; i <= 8; i++) if (i !== 4) tokens.set(`Agent-${i}`, (await post(apis[i % 3]!.url, admin, '/v1/agents', { id: `Agent-${i}` })).json.token);

    // Subscribers on different processes, each acking what it gets.
    const subscribers = ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-5'];
    const got = new Map<string, string[]>(subscribers.map((a) => [a, []]));
    const streams = await Promise.all(
      subscribers.map(async (agent, i) => {
        const s = new HubStream({ baseUrl: apis[i % 3]!.url, token: tokens.get(agent), prefetch: 100 });
        await s.connect();
        t.after(() => s.close());
        void (async () => {
          for await (const ev of s) {
            if (ev.type !== 'delivery') continue;
            got.get(agent)!.push(ev.message.id);
            await s.ack([ev.message.id]).catch(() => undefined);
          }
        })();
        return s;
      }),
    );
    assert.equal(streams.length, 4);

    // Senders spread over the three api processes.
    const expected = new Map<string, string[]>(subscribers.map((a) => [a, []]));
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        for (let n = 0; n < 40; n++) {
          const to = subscribers[(w + n) % subscribers.length]!;
          const r = await post(apis[(w + n) % 3]!.url, tokens.get('Agent-6')!, '/v1/messages', { to, body: `m ${w}.${n}` });
          assert.equal(r.status, 201, JSON.stringify(r.json));
          expected.get(to)!.push(r.json.message.id);
        }
      }),
    );
    const broadcast = await post(a1.url, tokens.get('Agent-4')!, '/v1/messages', { to: 'all', body: 'stand-up in 5' });
    assert.equal(broadcast.status, 201);
    for (const a of subscribers) expected.get(a)!.push(broadcast.json.message.id);

    const deadline = Date.now() + 20_000;
    const done = (): boolean => subscribers.every((a) => got.get(a)!.length >= expected.get(a)!.length);
    while (!done() && Date.now() < deadline) await sleep(100);
    for (const a of subscribers) {
      assert.deepEqual([...got.get(a)!].sort(), [...expected.get(a)!].sort(), `${a}: every message once`);
    }
    await sleep(500);
    const open = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE state <> 'acked' AND recipient = ANY($1)`, [subscribers]);
    assert.equal(open[0]?.n, 0, 'every delivery to a subscriber acknowledged');

    // All eight agents (the captain too) race `task next` through different processes.
    for (let i = 0; i < 80; i++) assert.equal((await post(apis[i % 3]!.url, tokens.get('Agent-4')!, '/v1/tasks', { title: `task ${i}`, points: 10 + (i % 7) })).status, 201);
    const claimed: string[] = [];
    await Promise.all(
      [...tokens].map(async ([, token], i) => {
        for (;;) {
          const r = await post(apis[i % 3]!.url, token, '/v1/tasks/next');
          assert.equal(r.status, 200);
          if (r.json.task === null) return;
          claimed.push(r.json.task.id);
        }
      }),
    );
    assert.equal(claimed.length, 80);
    assert.equal(new Set(claimed).size, 80, 'no task claimed twice');
    void a2;
  });

  it('killing an api process mid-load loses nothing answered; its stream resumes on another process', { timeout: 120_000 }, async (t) => {
    const { apis } = await cluster(t, ['api', 'api', 'worker']);
    const [a0, a1] = apis as [HubProcess, HubProcess];
    const admin = adminTokenOf(apis);
    const sender = (await post(a0.url, admin, '/v1/agents', { id: 'Agent-1' })).json.token as string;
    const receiver = (await post(a0.url, admin, '/v1/agents', { id: 'Agent-2' })).json.token as string;

    const received = new Set<string>();
    const stream = new HubStream({ baseUrl: [a0.url, a1.url], token: receiver, prefetch: 100 });
    await stream.connect();
    t.after(() => stream.close());
    void (async () => {
      for await (const ev of stream) {
        if (ev.type !== 'delivery') continue;
        received.add(ev.message.id);
        await stream.ack([ev.message.id]).catch(() => undefined);
      }
    })();

    const answered = new Set<string>();
    let sending = true;
    const senders = Array.from({ length: 4 }, async (_, w) => {
      let n = 0;
      while (sending) {
        const url = apis[(w + n++) % 2]!.url;
        try {
          const r = await post(url, sender, '/v1/messages', { to: 'Agent-2', body: `m ${w}.${n}` });
          if (r.status === 201) answered.add(r.json.message.id);
        } catch {
          await sleep(20); // that process is gone: the next try goes to the other
        }
      }
    });
    await sleep(1500);
    await a0.kill(); // the process the stream is connected to
    await sleep(2000);
    sending = false;
    await Promise.all(senders);

    const deadline = Date.now() + 20_000;
    while ([...answered].some((id) => !received.has(id)) && Date.now() < deadline) await sleep(100);
    assert.ok(answered.size > 50, `too little traffic: ${answered.size}`);
    assert.deepEqual([...answered].filter((id) => !received.has(id)), [], 'answered sends not delivered after the kill');
    assert.equal(stream.baseUrl, a1.url, 'the stream moved to the surviving process');
  });
});
