// Claims are leases on the assignee's presence: an assignee silent for longer than
// tasks.claimTimeoutSeconds loses the task (it is open again, and the captains get a system
// message); one that keeps calling, even only heartbeats, keeps it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApp } from '../support/app.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, registerAgents } from '../e2e/helpers.js';

/** Polls `check` every 100 ms until it returns a value, or fails after `ms`. */
async function until<T>(ms: number, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

describe('claim leases', () => {
  it('a silent assignee loses its task; a heartbeating one keeps it (spawned hub, SWARM_CLAIM_TIMEOUT_SECONDS=1)', async (t) => {
    const hub = await spawnHub(join(tempDir(), 'data'), { env: { SWARM_CLAIM_TIMEOUT_SECONDS: '1', SWARM_SYNCHRONOUS: 'normal' } });
    t.after(() => hub.stop());
    const { url } = hub;
    const cap = (await registerAgents(url, hub.adminToken, ['Agent-4'], 'captain'))['Agent-4'] ?? '';
    const tokens = await registerAgents(url, hub.adminToken, ['Agent-1', 'Agent-2']);
    const [silent, alive] = [tokens['Agent-1'] ?? '', tokens['Agent-2'] ?? ''];
    const add = async (title: string): Promise<string> => {
      const r = await http(url, 'POST', '/v1/tasks', { token: cap, body: { title, points: 40 } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json.task.id as string;
    };
    const t1 = await add('Rotate the TLS certificates');
    const t2 = await add('Prune the old images');
    const claim = async (token: string, id: string) => {
      const r = await http(url, 'POST', `/v1/tasks/${id}/claim`, { token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    };
    await claim(silent, t1);
    await claim(alive, t2);

    // Agent-2 heartbeats every 200 ms while Agent-1 says nothing.
    let beating = true;
    const beats = (async () => {
      while (beating) {
        const r = await http(url, 'POST', '/v1/heartbeat', { token: alive });
        assert.equal(r.status, 200);
        await sleep(200);
      }
    })();
    // Awaited below; this only keeps a failure elsewhere (the hub stopped mid-beat) from surfacing as an unhandled rejection.
    beats.catch(() => undefined);
    t.after(() => {
      beating = false;
    });
    const task = async (id: string) => (await http(url, 'GET', `/v1/tasks/${id}`, { token: cap })).json.task;

    const reopened = await until(8000, 'the silent claim ends', async () => {
      const x = await task(t1);
      return x.status === 'open' ? x : undefined;
    });
    assert.equal(reopened.assignee, null);
    assert.equal(reopened.claimed_at, null);
    // Well past the timeout, the heartbeating assignee still holds its task.
    await sleep(2500);
    const kept = await task(t2);
    beating = false;
    await beats;
    assert.equal(kept.status, 'claimed');
    assert.equal(kept.assignee, 'Agent-2');

    const inbox = await http(url, 'GET', '/v1/inbox?limit=100', { token: cap });
    const notices = inbox.json.items.map((i: any) => i.message).filter((m: any) => m.kind === 'S2A');
    assert.equal(notices.length, 1, `one system notice: ${JSON.stringify(notices)}`);
    const [notice] = notices;
    assert.equal(notice.from, 'system');
    assert.equal(notice.type, 'task');
    assert.equal(notice.metadata.task, t1);
    assert.equal(notice.metadata.status, 'open');
    assert.match(notice.body, /Agent-1 has been silent/);
    assert.match(notice.body, /open again/);
    assert.equal(notice.thread_id, reopened.thread_id, 'the notice is in the task thread');

    // The task is back on the board: the silent agent cannot finish it, anyone else can take it.
    const late = await http(url, 'POST', `/v1/tasks/${t1}/done`, { token: silent, body: {} });
    assert.equal(late.status, 403);
    assert.equal(late.json.code, 'forbidden');
    const next = await http(url, 'POST', '/v1/tasks/next', { token: alive });
    assert.equal(next.json.task.id, t1);
    // The one who lost it heard about it too (it was involved in the task).
    const lost = await http(url, 'GET', '/v1/inbox?limit=100', { token: silent });
    assert.ok(lost.json.items.some((i: any) => i.message.kind === 'S2A' && i.message.metadata.task === t1), 'the former assignee is told');
  });

  it('in-process hub: the sweeper started by hub.start() reopens a silent claim', async (t) => {
    const h = await startTestApp(t, { 'tasks.claimTimeoutSeconds': 1 });
    h.hub.start();
    const cap = await h.addAgent('Agent-4', 'captain');
    const a1 = await h.addAgent('Agent-1');
    const added = await h.call('POST', '/v1/tasks', { token: cap, body: { title: 'Audit the backups', points: 75 } });
    const id = added.json.task.id as string;
    const started = Date.now();
    const claimed = await h.call('POST', '/v1/tasks/next', { token: a1 });
    assert.equal(claimed.json.task.id, id);
    await until(6000, 'the claim ends', async () => ((await h.call('GET', `/v1/tasks/${id}`, { token: cap })).json.task.status === 'open' ? true : undefined));
    assert.ok(Date.now() - started >= 1000, 'not before the timeout');
    // The captain's notice is a send of its own after the reopen: it may land a moment later (a
    // full-suite run read the inbox between the two).
    await until(6000, 'the captain is told', async () => {
      const inbox = await h.call('GET', '/v1/inbox', { token: cap });
      return inbox.json.items.some((i: any) => i.message.kind === 'S2A' && i.message.metadata.task === id) ? true : undefined;
    });
  });
});
