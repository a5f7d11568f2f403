// Joining a thread by id, and broadcasting when nobody else is there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestApp } from '../support/app.js';
import { storeCounts } from '../support/db.js';
import { assertProblem, sendOk, UNKNOWN_ID } from './expect.js';

describe('thread_id', () => {
  it('joins an existing thread the sender can see', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const root = (await sendOk(h, a1, { to: 'Agent-2', body: 'root' })).message;
    const next = (await sendOk(h, a1, { to: 'Agent-2', body: 'more', thread_id: root.id })).message;
    assert.equal(next.thread_id, root.id);
    const thread = await h.call('GET', `/v1/threads/${root.id}`, { token: a1 });
    assert.deepEqual(thread.json.messages.map((m: any) => m.id), [root.id, next.id]);
  });

  it('refuses an unknown thread, a thread the sender cannot see, and a reply used as a thread id; nothing stored', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    await h.addAgent('Agent-3');
    const root = (await sendOk(h, a1, { to: 'Agent-2', body: 'root' })).message;
    const reply = (await sendOk(h, a2, { to: 'Agent-1', body: 'reply', reply_to: root.id })).message;
    const a3 = await h.addAgent('Agent-4');
    const before = await storeCounts(h);
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'x', thread_id: UNKNOWN_ID } }), 404, 'message_not_found');
    assertProblem(await h.call('POST', '/v1/messages', { token: a3, body: { to: 'Agent-2', body: 'x', thread_id: root.id } }), 404, 'message_not_found');
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'x', thread_id: reply.id } }), 400, 'validation_failed');
    assert.deepEqual(await storeCounts(h), before);
  });
});

describe('broadcast with nobody to reach', () => {
  it('is refused with unknown_recipient instead of storing a message nobody gets', async (t) => {
    const h = await startTestApp(t);
    const before = await storeCounts(h);
    assertProblem(await h.call('POST', '/v1/messages', { body: { to: 'all', body: 'anyone?' } }), 422, 'unknown_recipient');
    assert.deepEqual(await storeCounts(h), before);
  });
});
