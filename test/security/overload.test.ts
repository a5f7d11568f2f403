// Back-pressure (issue 12): the queues between a request and the store are bounded. Sends beyond
// store.queueMax waiting for a commit are answered 503 overloaded with Retry-After at once, and
// store nothing; a WebSocket client with more than streams.maxPendingFrames frames unanswered is
// closed with code 4013. Every load here is bounded in count and time.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { spawnHub } from '../support/process.js';
import { testStore } from '../support/store.js';
import { addAgent, openWs, startStreamApp } from '../streams/clients.js';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  contentType: string | undefined;
  body: string;
}

function post(base: string, agent: Agent, path: string, token: string, body: unknown): Promise<Answer> {
  const u = new URL(path, base);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, timeout: 30_000, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, contentType: res.headers['content-type'], body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(payload);
  });
}

describe('back-pressure', () => {
  it('a flood of sends beyond store.queueMax is answered 503 overloaded with Retry-After; every 201 is stored, no 503 is', { timeout: 120_000 }, async (t) => {
    const store = testStore(t);
    // A real `swarm serve` with its defaults (SQLite: synchronous=full, the writer thread) and a
    // queue bound small enough for one test client to exceed.
    const hub = await spawnHub(store.dir, { store, env: { SWARM_QUEUE_MAX: '8', SWARM_AGENT_RATE: '0', SWARM_LOG_LEVEL: 'error' } });
    t.after(() => hub.kill());
    const a1 = await addAgent(hub.url, hub.adminToken, 'Agent-1');
    await addAgent(hub.url, hub.adminToken, 'Agent-2');
    const before = await storeCounts(store);
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    t.after(() => agent.destroy());

    const answers: Answer[] = [];
    // Rounds of 512 concurrent sends over 256 connections, until the bound has answered (at most 6).
    for (let round = 0; round < 6 && !answers.some((a) => a.status === 503); round++) {
      answers.push(...(await Promise.all(Array.from({ length: 512 }, (_, i) => post(hub.url, agent, '/v1/messages', a1, { to: 'Agent-2', body: `flood ${round}.${i}` })))));
    }
    const created = answers.filter((a) => a.status === 201).length;
    const overloaded = answers.filter((a) => a.status === 503);
    t.diagnostic(`${answers.length} sends: ${created} × 201, ${overloaded.length} × 503`);
    assert.deepEqual([...new Set(answers.map((a) => a.status))].filter((s) => s !== 201 && s !== 503), [], 'only 201 and 503 answers');
    assert.ok(overloaded.length > 0, `no 503 among ${answers.length} concurrent sends with store.queueMax 8: the commit queue is not bounded`);
    assert.ok(created > 0, 'the bound refused everything');
    for (const a of overloaded) {
      assert.equal(a.retryAfter, '1', 'Retry-After on 503 overloaded');
      assert.match(a.contentType ?? '', /^application\/problem\+json/);
      const p = JSON.parse(a.body) as { code: string; retry_after: number; detail: string };
      assert.equal(p.code, 'overloaded');
      assert.equal(p.retry_after, 1);
      assert.match(p.detail, /store\.queueMax 8/);
    }
    const after = await storeCounts(store);
    assert.equal(after.messages - before.messages, created, 'every 201 is stored and no 503 is');
    assert.equal(after.deliveries - before.deliveries, created);
    // The hub is well once the flood is over.
    assert.equal((await post(hub.url, agent, '/v1/messages', a1, { to: 'Agent-2', body: 'after' })).status, 201);
  });

  it('a WebSocket client with more than streams.maxPendingFrames frames unanswered gets an overloaded error frame and close code 4013', { timeout: 60_000 }, async (t) => {
    const { h, base } = await startStreamApp(t, { 'streams.maxPendingFrames': 20, 'limits.agentRate': 0 });
    const a1 = await addAgent(base, h.adminToken, 'Agent-1');
    await addAgent(base, h.adminToken, 'Agent-2');
    const before = await storeCounts(h);
    const ws = await openWs(t, base, { token: a1 });
    // Sends are handled one at a time, each waiting for its commit: 2,000 written at once pile up.
    const frames = 2000;
    for (let i = 0; i < frames; i++) ws.send({ type: 'send', id: `s${i}`, message: { to: 'Agent-2', body: `frame ${i}` } });
    const closed = await Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref())]);
    assert.ok(closed !== null, `the socket stayed open after ${frames} frames sent at once (streams.maxPendingFrames 20)`);
    assert.equal(closed.code, 4013);
    assert.equal(closed.reason, 'overloaded');
    const error = ws.all.find((f) => f.type === 'error');
    assert.equal(error?.code, 'overloaded', JSON.stringify(error));
    assert.match(String(error?.detail), /streams\.maxPendingFrames/);
    // What was stored is what was answered (plus at most the one send in progress at the close).
    const answered = ws.all.filter((f) => f.type === 'sent').length;
    const stored = (await storeCounts(h)).messages - before.messages;
    assert.ok(stored >= answered && stored <= answered + 1, `${answered} sends answered, ${stored} stored`);
  });
});
