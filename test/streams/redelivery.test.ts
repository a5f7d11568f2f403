// Leases over real WebSockets: an unacknowledged delivery comes back after the visibility timeout,
// goes to the dead letters after delivery.maxAttempts hand-outs, and comes back from there with
// POST /v1/dlq/retry or `swarm dlq retry --all`; nack returns a delivery now or after a delay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, spawnHub } from '../support/process.js';
import { testStore } from '../support/store.js';
import { addAgent, http, startStreamApp, openWs, queueOf, send, until } from './clients.js';

describe('visibility timeout and dead letters', () => {
  it('redelivers an unacked delivery after the visibility timeout, dead-letters it after maxAttempts, and retry brings it back', async (t) => {
    const { h, base } = await startStreamApp(t, { 'delivery.visibilitySeconds': 0.5, 'delivery.maxAttempts': 3 });
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    const c = await openWs(t, base, { token });
    const id = await send(base, sender, { to: 'Agent-1', body: 'please handle' });

    const first = await c.nextOf('delivery');
    assert.equal(first.message.id, id);
    assert.equal(first.attempt, 1);
    const leaseEnd = Date.parse(first.lease_expires_at);
    const second = await c.nextOf('delivery', 5000);
    assert.equal(second.message.id, id, 'the same message comes back');
    assert.equal(second.attempt, 2);
    assert.ok(Date.now() >= leaseEnd, 'not redelivered before its lease ran out');
    assert.ok(second.event_id > first.event_id, 'a redelivery is a new event');
    const third = await c.nextOf('delivery', 5000);
    assert.equal(third.attempt, 3);

    // The third lease runs out: no fourth hand-out, the delivery is dead with a reason.
    const dead = await until('the dead letter', async () => {
      const r = await http(base, 'GET', '/v1/dlq', { token });
      return r.json.dead.length > 0 ? r.json.dead : undefined;
    });
    assert.equal(dead.length, 1);
    assert.equal(dead[0].message.id, id);
    assert.equal(dead[0].delivery.state, 'dead');
    assert.equal(dead[0].attempts, 3);
    assert.match(dead[0].reason, /not acknowledged after 3 deliveries/);
    assert.deepEqual(c.takeAll('delivery'), [], 'a dead letter is not handed out again');
    const q = await queueOf(base, token, 'Agent-1');
    assert.equal(q.dead, 1);
    assert.equal(q.redeliveries, 2);
    assert.equal(q.in_flight, 0);
    assert.equal(q.depth, 0);
    assert.equal(q.streams, 1);

    // Retry: back in the inbox with a fresh attempt count, and on the open stream at once.
    const retried = await http(base, 'POST', '/v1/dlq/retry', { token, body: { ids: [id] } });
    assert.equal(retried.status, 200, retried.body);
    assert.deepEqual(retried.json.retried, [{ agent: 'Agent-1', message_id: id }]);
    const again = await c.nextOf('delivery', 5000);
    assert.equal(again.message.id, id);
    assert.equal(again.attempt, 1);
    const acked = await c.request({ type: 'ack', id: 'a1', ids: [id] });
    assert.deepEqual(acked, { type: 'acked', id: 'a1', acked: [id] });
    assert.deepEqual((await http(base, 'GET', '/v1/dlq', { token })).json.dead, []);
    const after = await queueOf(base, token, 'Agent-1');
    assert.equal(after.dead, 0);
    assert.equal(after.acked, 1);
  });

  it('`swarm dlq retry --all` against a running hub brings a dead letter back to the stream', async (t) => {
    const store = testStore(t);
    const hub = await spawnHub(store.dir, { store, env: { SWARM_VISIBILITY_SECONDS: '0.3', SWARM_MAX_ATTEMPTS: '1' } });
    t.after(() => hub.kill());
    const sender = await addAgent(hub.url, hub.adminToken, 'Agent-S');
    const token = await addAgent(hub.url, hub.adminToken, 'Agent-1');
    const c = await openWs(t, hub.url, { token });
    const id = await send(hub.url, sender, { to: 'Agent-1', body: 'one chance' });
    assert.equal((await c.nextOf('delivery')).attempt, 1);
    await until('the dead letter', async () => ((await queueOf(hub.url, token, 'Agent-1')).dead === 1 ? true : undefined));

    const list = await runCli(['--hub', hub.url, '--token', hub.adminToken, '--json', 'dlq', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).dead.map((d: any) => [d.message.id, d.delivery.recipient]),
      [[id, 'Agent-1']],
    );
    const r = await runCli(['--hub', hub.url, '--token', hub.adminToken, '--json', 'dlq', 'retry', '--all']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).retried, [{ agent: 'Agent-1', message_id: id }]);
    const again = await c.nextOf('delivery', 5000);
    assert.equal(again.message.id, id);
    assert.equal(again.attempt, 1);
    assert.equal((await c.request({ type: 'ack', id: 'a', ids: [id] })).type, 'acked');
    c.close();
    assert.equal(await hub.stop(), 0);
  });

  it('nack with delay_seconds is not redelivered before the delay; nack without delay is redelivered at once', async (t) => {
    // A long visibility timeout: any redelivery seen here comes from the nack, not from a lease running out.
    const { h, base } = await startStreamApp(t, { 'delivery.visibilitySeconds': 60 });
    const sender = await h.addAgent('Agent-S');
    const token = await h.addAgent('Agent-1');
    const c = await openWs(t, base, { token });
    const id = await send(base, sender, { to: 'Agent-1', body: 'later please' });
    assert.equal((await c.nextOf('delivery')).attempt, 1);

    const nackedAt = Date.now();
    const nacked = await c.request({ type: 'nack', id: 'n1', ids: [id], delay_seconds: 1 });
    assert.deepEqual(nacked, { type: 'nacked', id: 'n1', nacked: [id] });
    const q = await queueOf(base, token, 'Agent-1');
    assert.equal(q.delayed, 1, 'counted as delayed while the delay runs');
    assert.equal(q.in_flight, 0);
    const delayed = await c.nextOf('delivery', 5000);
    assert.ok(Date.now() - nackedAt >= 950, `redelivered ${Date.now() - nackedAt} ms after a 1 s nack`);
    assert.equal(delayed.message.id, id);
    assert.equal(delayed.attempt, 2);

    const before = Date.now();
    const r = await http(base, 'POST', '/v1/nack', { token, body: { ids: [id] } });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.nacked, [id]);
    const now = await c.nextOf('delivery', 3000);
    assert.equal(now.message.id, id);
    assert.equal(now.attempt, 3);
    assert.ok(Date.now() - before < 3000, 'redelivered at once, long before the 60 s lease would end');
  });
});
