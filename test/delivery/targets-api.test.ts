// /v1/targets and /v1/agents/:id/targets over HTTP (inject), on either store: bad bodies are
// refused with validation_failed and store nothing; who may add, see, test and remove which
// target; a webhook's secret shown once; the per-agent limit; a test push.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TARGETS_PER_AGENT } from '../../src/domain/target.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver } from '../support/webhook-receiver.js';

const hook = (url = 'http://127.0.0.1:9/hook'): Record<string, unknown> => ({ kind: 'webhook', url });

async function roster(h: TestApp): Promise<{ a1: string; a2: string; cap: string; obs: string }> {
  return {
    a1: await h.addAgent('Agent-1'),
    a2: await h.addAgent('Agent-2'),
    cap: await h.addAgent('Agent-4', 'captain'),
    obs: await h.addAgent('Watcher', 'observer' as 'agent'),
  };
}

describe('delivery targets over HTTP', () => {
  it('refuses bad bodies with validation_failed naming the problem, and stores nothing', async (t) => {
    const h = await startTestApp(t);
    await roster(h);
    const bad: [string, unknown][] = [
      ['no kind', { url: 'http://x' }],
      ['unknown kind', { kind: 'carrier-pigeon', url: 'http://x' }],
      ['webhook without url', { kind: 'webhook' }],
      ['ftp URL', hook('ftp://127.0.0.1/x')],
      ['not a URL', hook('not a url')],
      ['URL with a password', hook('http://user:pw@127.0.0.1/x')],
      ['short secret', { ...hook(), secret: 'short' }],
      ['relative dir', { kind: 'file', dir: 'inboxes' }],
      ['dir with ..', { kind: 'file', dir: '/srv/../etc' }],
      ['bad pane', { kind: 'tmux', pane: 'agents; rm -rf /' }],
      ['empty argv', { kind: 'command', argv: [] }],
      ['empty program', { kind: 'command', argv: [''] }],
      ['empty types', { ...hook(), types: [] }],
      ['unknown type', { ...hook(), types: ['gossip'] }],
      ['bad priority', { ...hook(), min_priority: 'whenever' }],
      ['bad channel', { ...hook(), channels: ['#Not A Channel'] }],
      ['unknown field', { ...hook(), retries: 3 }],
      ['option of another kind', { ...hook(), allow_shell: true }],
    ];
    for (const [what, body] of bad) {
      const r = await h.call('POST', '/v1/agents/Agent-2/targets', { body });
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /problem\+json/, what);
      assert.equal(r.json.code, 'validation_failed', `${what}: ${r.body}`);
    }
    const notJson = await h.call('POST', '/v1/agents/Agent-2/targets', { body: '{"kind":', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.equal((await h.call('POST', '/v1/agents/Nobody/targets', { body: hook() })).json.code, 'agent_not_found');
    assert.equal((await h.call('POST', '/v1/agents/Watcher/targets', { body: hook() })).json.code, 'validation_failed', 'an observer receives nothing to push');
    assert.deepEqual(await h.store.listTargets(null), []);
  });

  it('lets an agent manage its own webhooks, captains an agent’s, and only admins add host targets; others’ targets do not exist for it', async (t) => {
    const h = await startTestApp(t);
    const { a1, a2, cap, obs } = await roster(h);
    const own = await h.call('POST', '/v1/agents/Agent-2/targets', { token: a2, body: { ...hook(), min_priority: 'high', channels: ['ops'] } });
    assert.equal(own.status, 201, own.body);
    assert.equal(own.headers['cache-control'], 'no-store');
    assert.match(own.json.secret, /^whsec_/);
    const id = own.json.target.id as string;
    assert.equal(own.json.target.where, 'http://127.0.0.1:9/hook');
    assert.deepEqual(own.json.target.filter, { min_priority: 'high', types: null, channels: ['ops'], senders: null });
    const listed = await h.call('GET', '/v1/agents/Agent-2/targets', { token: a2 });
    assert.equal(listed.status, 200);
    assert.ok(!listed.body.includes(own.json.secret as string), 'never listed with its secret');

    // Another agent: cannot see, test, retry or remove it, nor add one for Agent-2.
    assert.equal((await h.call('GET', '/v1/agents/Agent-2/targets', { token: a1 })).json.code, 'forbidden');
    assert.equal((await h.call('GET', '/v1/targets', { token: a1 })).json.code, 'forbidden');
    for (const [method, path] of [['DELETE', `/v1/targets/${id}`], ['POST', `/v1/targets/${id}/test`], ['POST', `/v1/targets/${id}/retry`]] as const) {
      const r = await h.call(method, path, { token: a1, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(r.status, 404, `${method} ${path}: ${r.body}`);
      assert.equal(r.json.code, 'target_not_found');
    }
    assert.equal((await h.call('POST', '/v1/agents/Agent-2/targets', { token: a1, body: hook() })).json.code, 'forbidden');
    assert.equal((await h.call('POST', '/v1/agents/Agent-1/targets', { token: obs, body: hook() })).json.code, 'forbidden');

    // Host targets (file, tmux, command): admins only, even for oneself.
    for (const body of [{ kind: 'file', dir: '/tmp' }, { kind: 'tmux', pane: 'agents:1.0' }, { kind: 'command', argv: ['/bin/true'] }]) {
      for (const token of [a2, cap]) assert.equal((await h.call('POST', '/v1/agents/Agent-2/targets', { token, body })).json.code, 'forbidden', `${body.kind}`);
    }
    assert.equal((await h.call('POST', '/v1/agents/Agent-2/targets', { body: { kind: 'command', argv: ['/bin/true'] } })).status, 201, 'the admin');

    // A captain manages an agent's webhooks, not another captain's.
    assert.equal((await h.call('POST', '/v1/agents/Agent-1/targets', { token: cap, body: hook() })).status, 201);
    await h.addAgent('Agent-5', 'captain');
    assert.equal((await h.call('POST', '/v1/agents/Agent-5/targets', { token: cap, body: hook() })).json.code, 'forbidden');
    const all = await h.call('GET', '/v1/targets', { token: cap });
    assert.equal(all.json.targets.length, 3);

    const status = await h.call('GET', '/v1/targets/status?agent=Agent-2', { token: a2 });
    assert.deepEqual(status.json.targets[0].backlog, { pending: 0, dead: 0, oldest_at: null });
    assert.deepEqual(status.json.targets[0].breaker, { state: 'closed', until: null });
    const removed = await h.call('DELETE', `/v1/targets/${id}`, { token: a2 });
    assert.equal(removed.status, 200);
    assert.equal((await h.call('DELETE', `/v1/targets/${id}`, { token: a2 })).json.code, 'target_not_found');
    const audit = await h.call('GET', '/v1/audit?action=target.add&limit=10');
    assert.equal(audit.json.records.length, 3, 'each addition is audited');
  });

  it(`holds at most ${MAX_TARGETS_PER_AGENT} targets per agent`, async (t) => {
    const h = await startTestApp(t);
    await roster(h);
    for (let i = 0; i < MAX_TARGETS_PER_AGENT; i++) assert.equal((await h.call('POST', '/v1/agents/Agent-2/targets', { body: hook(`http://127.0.0.1:9/h${i}`) })).status, 201);
    const over = await h.call('POST', '/v1/agents/Agent-2/targets', { body: hook() });
    assert.equal(over.json.code, 'validation_failed');
    assert.match(over.json.detail, /at most 16/);
    assert.equal((await h.store.listTargets('Agent-2')).length, MAX_TARGETS_PER_AGENT);
  });

  it('pushes a signed test message on demand, and says why one failed', async (t) => {
    const h = await startTestApp(t);
    const { a2 } = await roster(h);
    let secret = '';
    const rx = await startReceiver(() => secret);
    t.after(() => rx.close());
    const added = await h.call('POST', '/v1/agents/Agent-2/targets', { token: a2, body: hook(rx.url) });
    secret = added.json.secret as string;
    const ok = await h.call('POST', `/v1/targets/${added.json.target.id as string}/test`, { token: a2, body: {} });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.ok, true);
    assert.equal(rx.pushes.length, 1);
    assert.equal(rx.pushes[0]?.verified, true);
    assert.equal(rx.pushes[0]?.body.message.sender, 'system');
    await rx.close();
    const down = await h.call('POST', `/v1/targets/${added.json.target.id as string}/test`, { token: a2, body: {} });
    assert.equal(down.json.ok, false);
    assert.equal(down.json.reason, 'refused');
    assert.match(down.json.error, /ECONNREFUSED/);
    assert.equal((await h.call('GET', '/v1/inbox', { token: a2 })).json.items.length, 0, 'a test push is not a message');
  });
});
