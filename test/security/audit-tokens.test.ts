// Token issue, revocation and rotation are on the audit trail, naming ids, never tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestApp } from '../support/app.js';

describe('audit of tokens', () => {
  it('records token.create and token.revoke (also for a rotation) without the secret', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('Agent-1');
    const created = await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', label: 'ci' } });
    assert.equal(created.status, 201, created.body);
    const id = created.json.token_info?.id ?? created.json.info?.id ?? created.json.id;
    assert.equal(typeof id, 'string', created.body);
    const rotated = await h.call('POST', `/v1/tokens/${id as string}/rotate`, { body: {} });
    assert.equal(rotated.status, 200, rotated.body);
    const audit = await h.call('GET', '/v1/audit?limit=100');
    assert.equal(audit.status, 200);
    const actions = audit.json.records.map((r: any) => `${r.action} ${r.detail.token ?? ''}`);
    assert.ok(actions.includes(`token.create ${id as string}`), actions.join('\n'));
    assert.ok(actions.includes(`token.revoke ${id as string}`), actions.join('\n'));
    for (const secret of [created.json.token, rotated.json.token]) {
      assert.equal(typeof secret, 'string');
      assert.ok(!JSON.stringify(audit.json).includes(secret as string), 'no token in the audit trail');
    }
  });
});
