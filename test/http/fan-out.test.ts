// The fan-out bound (issue 12): `all` and #channels expand to every agent they name, so one
// request could create any number of deliveries. limits.fanOut caps the agents one message
// reaches; beyond it the send is refused with 422 too_many_recipients and nothing is stored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestApp } from '../support/app.js';
import { storeCounts } from '../support/db.js';
import { assertProblem, sendOk } from './expect.js';

describe('fan-out bound (limits.fanOut)', () => {
  it('refuses `all` and a #channel reaching more agents than the bound, stores nothing, and follows a live change', async (t) => {
    const h = await startTestApp(t, { 'limits.fanOut': 3, 'limits.agentRate': 0 });
    const captain = await h.addAgent('captain', 'captain');
    const a1 = await h.addAgent('Agent-1');
    const others = [await h.addAgent('Agent-2'), await h.addAgent('Agent-3'), await h.addAgent('Agent-4')];
    assert.equal((await h.call('POST', '/v1/channels', { token: a1, body: { name: 'big' } })).status, 201);
    for (const token of others) assert.equal((await h.call('POST', '/v1/channels/big/join', { token })).status, 200);

    // At the bound: three others in the channel, three named agents.
    assert.deepEqual((await sendOk(h, a1, { to: '#big', body: 'three others' })).recipients.sort(), ['Agent-2', 'Agent-3', 'Agent-4']);
    await sendOk(h, a1, { to: 'Agent-2,Agent-3,Agent-4', body: 'three named' });
    const before = await storeCounts(h);

    // Beyond it: `all` from the captain reaches Agent-1…4; the channel with the captain in it, four.
    const all = await h.call('POST', '/v1/messages', { token: captain, body: { to: 'all', body: 'to everyone' } });
    assertProblem(all, 422, 'too_many_recipients');
    assert.match(all.json.detail, /more than 3 agents \(setting limits\.fanOut\)/);
    assert.equal((await h.call('POST', '/v1/channels/big/join', { token: captain })).status, 200);
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: '#big', body: 'four others' } }), 422, 'too_many_recipients');
    // Addresses together: a channel of three plus one more agent.
    assertProblem(await h.call('POST', '/v1/messages', { token: captain, body: { to: ['Agent-1', '#big'], body: 'mixed' } }), 422, 'too_many_recipients');
    // The other requests that expand `all`: the wrap-up (one message per agent) and reports.
    assertProblem(await h.call('POST', '/v1/wrapup', { token: captain, body: { to: 'all' } }), 422, 'too_many_recipients');
    assertProblem(await h.call('POST', '/v1/reports', { token: captain, body: { title: 'r', body: 'b', to: 'all' } }), 422, 'too_many_recipients');
    assert.deepEqual(await storeCounts(h), before, 'a refused fan-out stored something');

    // A shared setting: raised live, the same send goes through.
    assert.equal((await h.call('PUT', '/v1/config/limits.fanOut', { body: { value: 10 } })).status, 200);
    assert.equal((await sendOk(h, captain, { to: 'all', body: 'to everyone' })).recipients.length, 4);
  });
});
