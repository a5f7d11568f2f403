// A retried send with the same idempotency key is stored once; the key cannot be reused for other
// content, and the header and body field must agree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { startTestApp } from '../support/app.js';
import { assertProblem, inboxIds } from './expect.js';

const MSG = { to: 'Agent-2', body: 'deploy build 42', priority: 'high', tags: ['deploy'] };

describe('idempotency', () => {
  for (const [where, withKey] of [
    ['Idempotency-Key header', (key: string) => ({ body: MSG, headers: { 'idempotency-key': key } })],
    ['idempotency_key field', (key: string) => ({ body: { ...MSG, idempotency_key: key } })],
  ] as const) {
    it(`the same ${where} twice answers the same message once: 201 then 200 duplicate`, async (t) => {
      const h = await startTestApp(t);
      const a1 = await h.addAgent('Agent-1');
      const a2 = await h.addAgent('Agent-2');
      const first = await h.call('POST', '/v1/messages', { token: a1, ...withKey('retry-1') });
      assert.equal(first.status, 201, first.body);
      assert.equal(first.json.duplicate, false);
      const afterFirst = await storeCounts(h);

      const second = await h.call('POST', '/v1/messages', { token: a1, ...withKey('retry-1') });
      assert.equal(second.status, 200, second.body);
      assert.equal(second.json.duplicate, true);
      assert.equal(second.json.message.id, first.json.message.id);
      assert.deepEqual(second.json.message, first.json.message);
      assert.deepEqual(second.json.recipients, first.json.recipients);
      assert.deepEqual(await storeCounts(h), afterFirst);
      assert.equal(afterFirst.messages, 1);
      assert.equal(afterFirst.deliveries, 1);
      assert.deepEqual(await inboxIds(h, a2), [first.json.message.id]);
    });
  }

  it('the header on one try and the same key as a field on the retry is the same send', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const first = await h.call('POST', '/v1/messages', { token: a1, body: MSG, headers: { 'idempotency-key': 'k' } });
    assert.equal(first.status, 201);
    const second = await h.call('POST', '/v1/messages', { token: a1, body: { ...MSG, idempotency_key: 'k' } });
    assert.equal(second.status, 200, second.body);
    assert.equal(second.json.message.id, first.json.message.id);
    assert.equal((await storeCounts(h)).messages, 1);
  });

  it('the same key with a different body is refused with 409 idempotency_conflict, storing nothing', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    await h.addAgent('Agent-3');
    const first = await h.call('POST', '/v1/messages', { token: a1, body: MSG, headers: { 'idempotency-key': 'k1' } });
    assert.equal(first.status, 201);
    const before = await storeCounts(h);
    for (const changed of [{ ...MSG, body: 'deploy build 43' }, { ...MSG, priority: 'urgent' }, { ...MSG, to: 'Agent-3' }, { ...MSG, subject: 'x' }]) {
      const r = await h.call('POST', '/v1/messages', { token: a1, body: changed, headers: { 'idempotency-key': 'k1' } });
      assertProblem(r, 409, 'idempotency_conflict');
    }
    assert.deepEqual(await storeCounts(h), before);
    assert.deepEqual(await inboxIds(h, a2), [first.json.message.id]);
  });

  it('keys belong to their sender: another agent may use the same key', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a3 = await h.addAgent('Agent-3');
    await h.addAgent('Agent-2');
    const r1 = await h.call('POST', '/v1/messages', { token: a1, body: MSG, headers: { 'idempotency-key': 'shared' } });
    const r3 = await h.call('POST', '/v1/messages', { token: a3, body: MSG, headers: { 'idempotency-key': 'shared' } });
    assert.equal(r1.status, 201);
    assert.equal(r3.status, 201, r3.body);
    assert.notEqual(r1.json.message.id, r3.json.message.id);
    assert.equal((await storeCounts(h)).messages, 2);
  });

  it('a header and a body field that differ are refused with 400, storing nothing', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const before = await storeCounts(h);
    const r = await h.call('POST', '/v1/messages', { token: a1, body: { ...MSG, idempotency_key: 'a' }, headers: { 'idempotency-key': 'b' } });
    assertProblem(r, 400, 'validation_failed');
    assert.deepEqual(await storeCounts(h), before);
  });

  it('concurrent sends with one key store one message', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const rs = await Promise.all(Array.from({ length: 8 }, () => h.call('POST', '/v1/messages', { token: a1, body: MSG, headers: { 'idempotency-key': 'burst' } })));
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(rs.map((r) => r.json.message.id)).size, 1);
    assert.equal((await storeCounts(h)).messages, 1);
    assert.equal((await storeCounts(h)).deliveries, 1);
  });
});
