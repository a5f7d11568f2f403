// The at-least-once promise under crashes: while senders send and a subscriber receives and acks
// over a WebSocket, the hub process is SIGKILLed and restarted several times. In the end every
// send answered 2xx was delivered, every ack the hub confirmed stays acked, every delivery not
// acked was delivered again, and a message arrives twice only when its ack was lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { freePort } from '../support/net.js';
import { storeRows, testStore } from '../support/store.js';

const CYCLES = 3;
const RUN_MS = 1500;
const SENDERS = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function register(url: string, admin: string, id: string): Promise<string> {
  const r = await fetch(`${url}/v1/agents`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  assert.equal(r.status, 201);
  return ((await r.json()) as { token: string }).token;
}

describe('crash: SIGKILL while sending and consuming', () => {
  it('loses no answered send, keeps every confirmed ack, redelivers every unacked delivery', { timeout: 120_000 }, async (t) => {
    const store = testStore(t);
    const port = await freePort();
    const env = { SWARM_VISIBILITY_SECONDS: '2', SWARM_MAX_ATTEMPTS: '1000', SWARM_GRACE_SECONDS: '5' };
    const start = (): Promise<HubProcess> => spawnHub(store.dir, { store, env, args: ['--port', String(port)] });
    let hub = await start();
    t.after(() => hub.kill());
    const url = hub.url;
    const sender = await register(url, hub.adminToken, 'Agent-1');
    const receiver = await register(url, hub.adminToken, 'Agent-2');

    // --- the subscriber: acks every delivery, remembers what it saw and what the hub confirmed
    const received = new Map<string, number>();
    const confirmed = new Set<string>();
    const violations: string[] = [];
    const stream = new HubStream({ baseUrl: url, token: receiver, prefetch: 50 });
    await stream.connect();
    t.after(() => stream.close());
    const consuming = (async () => {
      for await (const ev of stream) {
        if (ev.type !== 'delivery') continue;
        const id = ev.message.id;
        if (confirmed.has(id)) violations.push(`${id} delivered again after its ack was confirmed`);
        received.set(id, (received.get(id) ?? 0) + 1);
        try {
          await stream.ack([id]);
          confirmed.add(id);
        } catch {
          // The hub died before answering: this ack may be lost, so the message may come again.
        }
      }
    })();

    // --- the senders: record every send the hub answered 2xx
    const answered = new Set<string>();
    let sending = true;
    let n = 0;
    const senders = Array.from({ length: SENDERS }, async () => {
      while (sending) {
        const body = `message ${++n}`;
        try {
          const r = await fetch(`${url}/v1/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${sender}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: 'Agent-2', body }),
            signal: AbortSignal.timeout(5000),
          });
          if (r.status === 201) answered.add(((await r.json()) as { message: { id: string } }).message.id);
          else await r.body?.cancel();
        } catch {
          await sleep(50); // hub down: try again shortly
        }
      }
    });

    // --- the chaos: kill -9 and restart, several times
    for (let i = 0; i < CYCLES; i++) {
      await sleep(RUN_MS);
      await hub.kill();
      await sleep(200);
      hub = await start();
    }
    await sleep(RUN_MS);
    sending = false;
    await Promise.all(senders);

    // --- quiescence: every answered send received, every received one acked
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && ([...answered].some((id) => !confirmed.has(id)) || confirmed.size < received.size)) await sleep(100);
    stream.close();
    await consuming;
    await hub.stop();

    assert.ok(answered.size > 100, `too little traffic to mean anything: ${answered.size} answered sends`);
    const lost = [...answered].filter((id) => !received.has(id));
    assert.deepEqual(lost, [], 'answered sends never delivered');
    assert.deepEqual(violations, []);

    const rows = await storeRows<{ id: string; state: string }>(store, "SELECT m.id AS id, d.state AS state FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE d.recipient = 'Agent-2'");
    const state = new Map(rows.map((r) => [r.id, r.state]));
    assert.deepEqual([...answered].filter((id) => !state.has(id)), [], 'answered sends missing from the store after the crashes');
    assert.deepEqual([...confirmed].filter((id) => state.get(id) !== 'acked'), [], 'confirmed acks not acked in the store');
    assert.deepEqual(rows.filter((r) => r.state !== 'acked').map((r) => r.id), [], 'stored deliveries never acknowledged (not redelivered)');
    const twice = [...received].filter(([, c]) => c > 1).length;
    t.diagnostic(`${answered.size} sends answered, ${rows.length} stored, ${received.size} received, ${twice} received more than once, ${CYCLES} SIGKILLs`);
  });
});
