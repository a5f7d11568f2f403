// The SDK as a user gets it: imported by the package's name (self-reference through package.json's
// `exports`), driving a real hub process: send, inbox, ack, a stream resumed in a "new process"
// (a new stream given the last event id processed), and typed errors with their codes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, Swarm } from 'swarm-hub';
import { type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

describe('SDK (import { Swarm } from "swarm-hub")', () => {
  let hub: HubProcess;
  let one: Swarm;
  let two: Swarm;
  before(async () => {
    hub = await spawnHub(tempDir('swarm-sdk-'));
    const admin = new Swarm({ baseUrl: hub.url, token: hub.adminToken });
    const t1 = (await admin.register({ id: 'Agent-1' })).token;
    const t2 = (await admin.register({ id: 'Agent-2' })).token;
    one = new Swarm({ baseUrl: hub.url, token: t1 });
    two = new Swarm({ baseUrl: hub.url, token: t2 });
  });
  after(async () => {
    await hub?.stop();
  });

  it('sends, lists the inbox, acknowledges', async () => {
    const sent = await one.send({ to: 'Agent-2', subject: 'Build', body: 'Please review PR 42', priority: 'high' });
    assert.deepEqual(sent.recipients, ['Agent-2']);
    const inbox = await two.inbox();
    const item = inbox.items.find((i) => i.message.id === sent.message.id);
    assert.equal(item?.message.from, 'Agent-1');
    assert.equal(item?.message.priority, 'high');
    const acked = await two.ack([sent.message.id]);
    assert.deepEqual(acked.acked, [sent.message.id]);
    assert.equal((await two.inbox()).items.some((i) => i.message.id === sent.message.id), false);
    assert.equal((await two.inbox({ all: true })).items.find((i) => i.message.id === sent.message.id)?.delivery.state, 'acked');
  });

  it('streams deliveries as an async iterable, and a new stream resumes after the last event processed', async () => {
    const a = await one.send({ to: 'Agent-2', body: 'first' });
    const b = await one.send({ to: 'Agent-2', body: 'second' });
    const stream = await two.stream({ prefetch: 10 });
    const seen: { id: string; event: number }[] = [];
    for await (const ev of stream) {
      if (ev.type !== 'delivery') continue;
      seen.push({ id: ev.message.id, event: ev.event_id });
      if (seen.length === 2) break; // break closes the stream: both stay leased, unacknowledged
    }
    assert.deepEqual(seen.map((s) => s.id), [a.message.id, b.message.id]);
    const first = seen[0]?.event as number;
    await two.ack([a.message.id]);
    // Only the first was processed: a stream resuming after it gets the second at once, long
    // before its lease (streams.visibilitySeconds) would run out.
    const resumed = await two.stream({ lastEventId: first });
    // It starts from there (a delivery may already have moved it on).
    assert.ok((resumed.position ?? 0) >= first);
    const started = Date.now();
    const again = await Promise.race([
      (async () => {
        for await (const ev of resumed) if (ev.type === 'delivery') return ev;
        return undefined;
      })(),
      sleep(5000, undefined, { ref: false }),
    ]);
    assert.equal(again?.message.id, b.message.id, 'the unprocessed delivery comes again on resume');
    assert.ok(Date.now() - started < 5000);
    // Returning from the loop closed the stream (as `break` does); its position moved on.
    assert.ok((resumed.position ?? 0) > first);
    assert.deepEqual((await two.ack([b.message.id])).acked, [b.message.id]);
  });

  it('fails with typed errors that carry the stable code', async () => {
    const e = await one.send({ to: 'Nobody-9', body: 'hello?' }).then(
      () => assert.fail('sent to nobody'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof HubError);
    assert.equal(e.code, 'unknown_recipient');
    assert.equal(e.details?.status, 422);
    const stranger = new Swarm({ baseUrl: hub.url, token: 'swarm_not-a-token' });
    await assert.rejects(stranger.inbox(), (err: unknown) => err instanceof HubError && err.code === 'unauthorized');
    const nowhere = new Swarm({ baseUrl: 'http://127.0.0.1:1', token: 'x', timeoutMs: 2000 });
    await assert.rejects(nowhere.whoami(), (err: unknown) => err instanceof HubError && err.code === 'hub_unreachable');
    // Nothing changed: Agent-2's inbox holds no message to Nobody-9, and nothing from the stranger.
    assert.equal((await two.inbox()).items.length, 0);
  });
});
