// Limits: the per-agent send rate, the per-address rate of requests without a valid token, the cap
// on streams per agent, request timeouts, and the loop guard (two agents replying to each other in
// a tight loop over HTTP are held, and the captain is told exactly once).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Role } from '../../src/domain/agent.js';
import { LoopGuard } from '../../src/hub/loop-guard.js';
import { RateLimiter } from '../../src/security/rate-limit.js';
import { startTestApp } from '../support/app.js';
import { storeCounts } from '../support/db.js';
import { assertProblem, sendOk } from '../http/expect.js';
import { addAgent, http, openWs, queueOf, refusedUpgrade, sleep, SseClient, startStreamApp, until } from '../streams/clients.js';

describe('rate limiter (token buckets)', () => {
  it('allows a burst, then one per 1/rate seconds, and says how long to wait', () => {
    const r = new RateLimiter(() => ({ rate: 2, burst: 3 }));
    assert.deepEqual([0, 0, 0].map(() => r.take('a', 1000)), [0, 0, 0]);
    assert.equal(r.take('a', 1000), 500);
    assert.equal(r.take('b', 1000), 0, 'another key has its own bucket');
    assert.equal(r.take('a', 1499), 2);
    assert.equal(r.take('a', 1500), 0);
    assert.ok(r.take('a', 1500) > 0);
  });

  it('rate 0 turns the limit off', () => {
    const r = new RateLimiter(() => ({ rate: 0, burst: 1 }));
    for (let i = 0; i < 100; i++) assert.equal(r.take('a', 0), 0);
    assert.equal(r.size, 0);
  });
});

describe('loop guard (unit)', () => {
  const agents = (ids: string[]): Map<string, Role> => new Map(ids.map((id) => [id, 'agent' as Role]));
  const settings = () => ({ rate: 9, windowMs: 60_000, cooldownMs: 30_000 });

  it('trips on a ring of three agents, holds the three, and tells once', () => {
    const trips: string[][] = [];
    const g = new LoopGuard(settings, { onTrip: (t) => trips.push(t.agents), onRecorded: () => undefined });
    const ring: [string, string][] = [['A', 'B'], ['B', 'C'], ['C', 'A']];
    let refused: unknown = null;
    for (let i = 0; i < 30 && refused === null; i++) {
      const [from, to] = ring[i % 3] as [string, string];
      try {
        g.check({ id: from, role: 'agent' }, agents([to]), 1000 + i);
      } catch (e) {
        refused = e;
      }
    }
    assert.ok(refused !== null, 'the ring was never held');
    assert.equal((refused as { code: string }).code, 'rate_limited');
    assert.deepEqual(trips.map((t) => [...t].sort()), [['A', 'B', 'C']]);
    assert.throws(() => g.check({ id: 'B', role: 'agent' }, agents(['A']), 2000), /loop guard/);
    assert.equal(trips.length, 1, 'refusals while held tell nobody again');
    g.check({ id: 'A', role: 'agent' }, agents(['D']), 2000);
    assert.doesNotThrow(() => g.check({ id: 'A', role: 'agent' }, agents(['B']), 1000 + 30_000 + 100), 'held only for the cool-down');
  });

  it('a one-sided flood with one reply is not a loop; captains and humans are not counted', () => {
    const g = new LoopGuard(settings);
    for (let i = 0; i < 50; i++) g.check({ id: 'A', role: 'agent' }, agents(['B']), 1000 + i);
    g.check({ id: 'B', role: 'agent' }, agents(['A']), 2000);
    for (let i = 0; i < 50; i++) {
      g.check({ id: 'captain', role: 'captain' }, agents(['A']), 3000 + i);
      g.check({ id: 'A', role: 'agent' }, new Map([['captain', 'captain' as Role]]), 3000 + i);
      g.check({ id: 'human:ana', role: 'agent' }, agents(['A']), 3000 + i);
      g.check({ id: 'A', role: 'agent' }, agents(['human:ana']), 3000 + i);
    }
    assert.deepEqual(g.held(4000), []);
  });
});

describe('per-agent send rate', () => {
  it('refuses sends beyond the burst with 429 and Retry-After, stores nothing, and recovers', async (t) => {
    const h = await startTestApp(t, { 'limits.agentRate': 2, 'limits.agentBurst': 3 });
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    for (let i = 0; i < 3; i++) await sendOk(h, a1, { to: 'Agent-2', body: `m${i}` });
    const before = await storeCounts(h);
    const r = await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'one too many' } });
    assertProblem(r, 429, 'rate_limited');
    assert.match(r.json.detail, /Agent-1/);
    assert.match(r.json.detail, /limits\.agentRate/);
    const retry = Number(r.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After: ${String(r.headers['retry-after'])}`);
    assert.equal(r.json.retry_after, retry);
    // Reports are sends too.
    assertProblem(await h.call('POST', '/v1/reports', { token: a1, body: { title: 'T', body: 'b', to: 'Agent-2' } }), 429, 'rate_limited');
    assert.deepEqual(await storeCounts(h), before, 'a refused send stored something');

    // Another agent has its own budget; reading is not limited.
    await sendOk(h, a2, { to: 'Agent-1', body: 'unaffected' });
    assert.equal((await h.call('GET', '/v1/inbox', { token: a1 })).status, 200);

    await sleep(retry * 1000);
    await sendOk(h, a1, { to: 'Agent-2', body: 'after the wait' });
  });

  it('applies to WebSocket send frames: an error frame rate_limited, the socket stays open', async (t) => {
    const { h, base } = await startStreamApp(t, { 'limits.agentRate': 1, 'limits.agentBurst': 2 });
    const a1 = await addAgent(base, h.adminToken, 'Agent-1');
    await addAgent(base, h.adminToken, 'Agent-2');
    const ws = await openWs(t, base, { token: a1 });
    const send = (id: string) => ws.request({ type: 'send', id, message: { to: 'Agent-2', body: id } });
    assert.equal((await send('s1')).type, 'sent');
    assert.equal((await send('s2')).type, 'sent');
    const refused = await send('s3');
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'rate_limited');
    assert.ok(refused.retry_after >= 1);
    await ws.assertAlive();
  });

  it('is a shared setting: config set applies at once', async (t) => {
    // A slow refill (one send a minute), so that the second send is refused however long the
    // first one takes to commit.
    const h = await startTestApp(t, { 'limits.agentBurst': 1, 'limits.agentRate': 1 / 60 });
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    await sendOk(h, a1, { to: 'Agent-2', body: 'one' });
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'two' } }), 429, 'rate_limited');
    const set = await h.call('PUT', '/v1/config/limits.agentRate', { body: { value: 0 } });
    assert.equal(set.status, 200, set.body);
    await sendOk(h, a1, { to: 'Agent-2', body: 'limit off' });
  });
});

describe('per-address rate of requests without a valid token', () => {
  it('answers 429 after the burst of failed authentications; valid tokens still pass', async (t) => {
    const h = await startTestApp(t, { 'limits.addressRate': 0.5, 'limits.addressBurst': 3 });
    const a1 = await h.addAgent('Agent-1');
    for (let i = 0; i < 3; i++) assertProblem(await h.call('GET', '/v1/inbox', { token: `swarm_${'x'.repeat(43)}` }), 401, 'unauthorized');
    const r = await h.call('GET', '/v1/inbox', { token: 'nope' });
    assertProblem(r, 429, 'rate_limited');
    assert.ok(Number(r.headers['retry-after']) >= 1);
    assertProblem(await h.call('GET', '/v1/inbox', { token: '' }), 429, 'rate_limited');
    assertProblem(await h.call('GET', '/v1/no-such-route', { token: '' }), 429, 'rate_limited');
    assertProblem(await h.call('GET', '/healthz', { token: '' }), 429, 'rate_limited');
    assert.equal((await h.call('GET', '/v1/inbox', { token: a1 })).status, 200, 'an authenticated request is not limited per address');
  });
});

describe('streams per agent', () => {
  it('refuses the stream beyond limits.streamsPerAgent with 429 too_many_streams, over WebSocket and SSE', async (t) => {
    const { h, base } = await startStreamApp(t, { 'limits.streamsPerAgent': 2 });
    const a1 = await addAgent(base, h.adminToken, 'Agent-1');
    const a2 = await addAgent(base, h.adminToken, 'Agent-2');
    // The queue listing (which shows open streams) lists agents with deliveries.
    assert.equal((await http(base, 'POST', '/v1/messages', { token: a2, body: { to: 'Agent-1', body: 'hi' } })).status, 201);
    const ws = await openWs(t, base, { token: a1 });
    const sse = await SseClient.open(t, base, { token: a1 });
    await sse.next('ready');

    const up = await refusedUpgrade(base, { token: a1 });
    assert.equal(up.status, 429);
    assert.match(up.contentType, /^application\/problem\+json/);
    assert.equal(up.json.code, 'too_many_streams');
    assert.match(up.json.detail, /limits\.streamsPerAgent/);
    const r = await http(base, 'GET', '/v1/stream', { token: a1 });
    assert.equal(r.status, 429);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(r.json.code, 'too_many_streams');

    // Another agent is not affected; a closed stream frees its place.
    await openWs(t, base, { token: a2 });
    ws.close();
    await ws.closed;
    await until('the closed stream to be released', async () => ((await queueOf(base, a1, 'Agent-1'))?.streams === 1 ? true : undefined));
    await openWs(t, base, { token: a1 });
  });
});

describe('request timeouts', () => {
  it('a client that does not finish its request gets 408 and is disconnected', async (t) => {
    const { base } = await startStreamApp(t, { 'limits.requestSeconds': 1 });
    const port = Number(new URL(base).port);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      // Headers that never end (slow loris).
      const s = connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', reject);
      setTimeout(() => {
        s.destroy();
        reject(new Error(`no answer after 15 s: ${text}`));
      }, 15_000).unref();
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 10_000);
  });
});

describe('loop guard over HTTP', () => {
  it('two agents replying to each other in a tight loop are held; the captain gets one notice; a third agent is unaffected', async (t) => {
    const { h, base } = await startStreamApp(t, { 'limits.loopRate': 10, 'limits.loopWindowSeconds': 60, 'limits.loopCooldownSeconds': 60 });
    const captain = await addAgent(base, h.adminToken, 'captain', 'captain');
    const a1 = await addAgent(base, h.adminToken, 'Agent-1');
    const a2 = await addAgent(base, h.adminToken, 'Agent-2');
    const a3 = await addAgent(base, h.adminToken, 'Agent-3');
    const token: Record<string, string> = { 'Agent-1': a1, 'Agent-2': a2 };

    // Each reply answers the last message, as two agents on autopilot would.
    let last: string | undefined;
    let from = 'Agent-1';
    let sent = 0;
    let refusal: Awaited<ReturnType<typeof http>> | null = null;
    while (refusal === null && sent < 100) {
      const to = from === 'Agent-1' ? 'Agent-2' : 'Agent-1';
      const r = await http(base, 'POST', '/v1/messages', { token: token[from], body: { to, body: `reply ${sent}`, ...(last === undefined ? {} : { reply_to: last }) } });
      if (r.status === 429) refusal = r;
      else {
        assert.equal(r.status, 201, r.body);
        last = r.json.message.id as string;
        sent += 1;
        from = to;
      }
    }
    assert.ok(refusal !== null, 'the loop was never held');
    assert.ok(sent >= 10 && sent <= 12, `held after ${sent} messages (limit 10)`);
    assert.equal(refusal.json.code, 'rate_limited');
    assert.match(refusal.json.detail, /loop guard/);
    assert.match(refusal.json.detail, /Agent-1/);
    assert.match(refusal.json.detail, /Agent-2/);
    assert.ok(Number(refusal.headers.get('retry-after')) >= 1);

    // Further sends between them are refused, in both directions, also inside a comma list.
    const both = [
      await http(base, 'POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'still looping' } }),
      await http(base, 'POST', '/v1/messages', { token: a2, body: { to: 'Agent-1', body: 'still looping' } }),
      await http(base, 'POST', '/v1/messages', { token: a1, body: { to: 'Agent-3,Agent-2', body: 'sneaking through' } }),
    ];
    for (const r of both) {
      assert.equal(r.status, 429, r.body);
      assert.equal(r.json.code, 'rate_limited');
      assert.match(r.json.detail, /loop guard/);
    }

    // A third agent is unaffected, and so is the rest of the held agents' traffic.
    assert.equal((await http(base, 'POST', '/v1/messages', { token: a3, body: { to: 'Agent-1', body: 'hello from 3' } })).status, 201);
    assert.equal((await http(base, 'POST', '/v1/messages', { token: a1, body: { to: 'Agent-3', body: 'hi 3' } })).status, 201);
    assert.equal((await http(base, 'POST', '/v1/messages', { token: a3, body: { to: 'Agent-2', body: 'hello from 3' } })).status, 201);
    // Captains are exempt: they can step in.
    assert.equal((await http(base, 'POST', '/v1/messages', { token: captain, body: { to: 'Agent-1,Agent-2', body: 'stop it, both of you' } })).status, 201);

    const notices = async (): Promise<any[]> => {
      const r = await http(base, 'GET', '/v1/inbox?limit=500', { token: captain });
      assert.equal(r.status, 200, r.body);
      return (r.json.items as any[]).map((i) => i.message).filter((m) => m.from === 'system');
    };
    await until('the captain’s notice', async () => ((await notices()).length > 0 ? true : undefined));
    await sleep(200);
    const got = await notices();
    assert.equal(got.length, 1, `one notice, not one per refused send: ${JSON.stringify(got)}`);
    const n = got[0];
    assert.equal(n.type, 'system');
    assert.equal(n.priority, 'urgent');
    assert.equal(n.kind, 'S2A');
    assert.match(n.body, /Agent-1/);
    assert.match(n.body, /Agent-2/);
    assert.match(n.body, /limit 10 per 60 s/);
    assert.deepEqual([...n.metadata.loop_guard.agents].sort(), ['Agent-1', 'Agent-2']);
    assert.doesNotMatch(n.body, /Agent-3/);
  });
});
