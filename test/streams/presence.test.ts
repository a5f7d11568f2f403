// Presence on streams: an open stream means online; `?presence=true` subscribers hear an agent come
// online, change its status, and go idle then offline after its stream closed and the silence ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { http, openWs, SseClient, startStreamApp } from './clients.js';

describe('presence on streams', () => {
  it('tells presence subscribers when an agent opens a stream, sets busy, and goes silent after closing it', async (t) => {
    // Idle from 1 s of silence, offline from 3 s: the tracker checks once a second, so the idle
    // state lasts two checks; with offline at 2 s one late check under load skipped it.
    const { h, base } = await startStreamApp(t, { 'presence.idleSeconds': 1, 'presence.offlineSeconds': 3 });
    const watcherToken = await h.addAgent('Watcher');
    const token = await h.addAgent('Agent-1');
    const quietToken = await h.addAgent('Agent-2');
    // The tracker has seen everyone once (first sightings are not reported as changes).
    await h.hub.presence.check();

    const w = await openWs(t, base, { token: watcherToken, query: { presence: true } });
    const sse = await SseClient.open(t, base, { token: quietToken, query: '?presence=true' });
    await sse.next('ready');
    const plain = await openWs(t, base, { token: quietToken, query: { presence: false } });
    const ofAgent1 = (p: string) => (f: Record<string, any>) => f.type === 'presence' && f.agent === 'Agent-1' && f.presence === p;

    const before = await http(base, 'GET', '/v1/agents', { token: watcherToken });
    assert.equal(before.json.agents.find((a: any) => a.id === 'Agent-1').presence, 'offline');

    const a1 = await openWs(t, base, { token });
    const online = await w.next(ofAgent1('online'), 5000, 'Agent-1 online');
    assert.equal(online.status, 'online');
    assert.ok(!Number.isNaN(Date.parse(online.at)));
    await ssePresence(sse, 'Agent-1', 'online');
    const roster = await http(base, 'GET', '/v1/agents', { token: watcherToken });
    assert.equal(roster.json.agents.find((a: any) => a.id === 'Agent-1').presence, 'online', 'an open stream shows as online');

    const set = await http(base, 'PUT', '/v1/status', { token, body: { status: 'busy', mission: 'reviewing PR 7' } });
    assert.equal(set.status, 200, set.body);
    const busy = await w.next(ofAgent1('busy'), 5000, 'Agent-1 busy');
    assert.equal(busy.status, 'busy');
    assert.equal(busy.mission, 'reviewing PR 7');

    a1.close();
    const closedAt = Date.now();
    await w.next(ofAgent1('idle'), 5000, 'Agent-1 idle');
    const offline = await w.next(ofAgent1('offline'), 5000, 'Agent-1 offline');
    assert.ok(Date.now() - closedAt >= 2900, `offline ${Date.now() - closedAt} ms after the stream closed, before the 3 s silence`);
    assert.equal(offline.status, 'busy', 'the status the agent set is kept; presence shows the silence');
    const after = await http(base, 'GET', '/v1/agents', { token: watcherToken });
    assert.equal(after.json.agents.find((a: any) => a.id === 'Agent-1').presence, 'offline');

    // A stream that did not ask for presence hears none of it.
    assert.deepEqual(
      plain.all.filter((f) => f.type === 'presence'),
      [],
    );
    // The SSE subscriber heard Agent-1 go offline too.
    await ssePresence(sse, 'Agent-1', 'offline');
  });
});

/** Reads SSE presence events until the one wanted (others are other agents' changes). */
async function ssePresence(sse: SseClient, agent: string, presence: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const ev = await sse.next('presence', Math.max(1, deadline - Date.now()));
    if (ev.data.agent === agent && ev.data.presence === presence) return;
  }
}
