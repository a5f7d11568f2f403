// Shutdown must not wait for long-polls to run out: closing the hub answers them at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestApp } from '../support/app.js';

describe('hub shutdown', () => {
  it('answers a pending inbox long-poll at once, with an empty inbox', async (t) => {
    const h = await startTestApp(t);
    const token = await h.addAgent('Agent-1');
    const started = Date.now();
    const poll = h.call('GET', '/v1/inbox?wait=60', { token });
    await new Promise((r) => setTimeout(r, 100));
    h.hub.signals.close();
    const res = await poll;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.items, []);
    assert.ok(Date.now() - started < 10_000, 'the long-poll ended with the hub, not after its 60 s wait');
  });
});
