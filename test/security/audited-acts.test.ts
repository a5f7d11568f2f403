// An act and its audit record are stored together or not at all: with the audit table refusing
// every insert (a trigger), each security-relevant act over HTTP fails and changes nothing, and a
// call made with --as is not made. And a token rotation is one step: two at once leave one live
// token, not two (issue 12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';
import { storeExec, storeRows } from '../support/store.js';

/** Makes every audit insert fail, as a full or broken audit table would; returns the undo. */
async function refuseAudit(h: TestApp): Promise<() => Promise<void>> {
  if (h.kind === 'postgres') {
    await storeExec(h, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$;
      CREATE TRIGGER audit_refused BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse_audit();`);
    return () => storeExec(h, 'DROP TRIGGER audit_refused ON audit; DROP FUNCTION refuse_audit();');
  }
  await storeExec(h, `CREATE TRIGGER audit_refused BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;`);
  return () => storeExec(h, 'DROP TRIGGER audit_refused;');
}

const failed = (r: { status: number; body: string }, what: string): void => assert.ok(r.status >= 400, `${what} must fail when its audit record cannot be written: ${r.status} ${r.body}`);

describe('audited acts', () => {
  it('an act whose audit record cannot be written fails and changes nothing; a call with --as is not made', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const cap = await h.addAgent('cap', 'captain');
    const issued = await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', label: 'ci' } });
    assert.equal(issued.status, 201, issued.body);
    const id = issued.json.info.id as string;
    const tokensBefore = (await h.call('GET', '/v1/tokens')).json.tokens.map((x: any) => x.id).sort();
    const records = async (): Promise<number> => (await storeRows<{ n: number }>(h, 'SELECT count(*) AS n FROM audit'))[0]?.n ?? NaN;
    const before = Number(await records());

    const undo = await refuseAudit(h);
    failed(await h.call('POST', '/v1/agents', { body: { id: 'Agent-9' } }), 'registering an agent');
    assert.equal((await h.call('GET', '/v1/agents/Agent-9')).status, 404, 'not registered');
    failed(await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1' } }), 'issuing a token');
    failed(await h.call('DELETE', `/v1/tokens/${id}`), 'revoking a token');
    failed(await h.call('POST', `/v1/tokens/${id}/rotate`, { body: {} }), 'rotating a token');
    assert.equal((await h.call('GET', '/v1/whoami', { token: issued.json.token })).status, 200, 'the token is still live');
    assert.deepEqual((await h.call('GET', '/v1/tokens')).json.tokens.map((x: any) => x.id).sort(), tokensBefore, 'no token issued, revoked or rotated');
    failed(await h.call('DELETE', '/v1/agents/Agent-2'), 'removing an agent');
    assert.equal((await h.call('GET', '/v1/whoami', { token: a2 })).status, 200, 'Agent-2 is still there');
    failed(await h.call('PUT', '/v1/config/delivery.maxAttempts', { body: { value: 7 } }), 'changing a setting');
    failed(await h.call('POST', '/v1/config/rollback', { body: { version: 0 } }), 'rolling settings back');
    assert.deepEqual((await h.call('GET', '/v1/config/history')).json.changes, [], 'no setting changed');
    failed(await h.call('POST', '/v1/messages', { token: cap, as: 'Agent-1', body: { to: 'Agent-2', body: 'sent for Agent-1' } }), 'a call made with --as');
    assert.deepEqual((await h.call('GET', '/v1/inbox', { token: a2 })).json.items, [], 'the message was not sent');
    assert.equal(await records(), before, 'no record written');

    // Once records can be written again, the same acts go through and each is on the trail.
    await undo();
    assert.equal((await h.call('DELETE', `/v1/tokens/${id}`)).status, 200);
    assert.equal((await h.call('POST', '/v1/messages', { token: cap, as: 'Agent-1', body: { to: 'Agent-2', body: 'now' } })).status, 201);
    assert.equal((await h.call('GET', '/v1/inbox', { token: a1 })).status, 200);
    const trail = (await h.call('GET', '/v1/audit?limit=2')).json.records.map((r: any) => r.action);
    assert.deepEqual(trail, ['act.as', 'token.revoke']);
    assert.equal((await h.call('GET', '/v1/audit/verify')).json.ok, true);
  });

  it('two rotations of one token at once: one succeeds, the other finds no live token, and one new token lives', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('Agent-1');
    for (let round = 0; round < 3; round++) {
      const issued = await h.call('POST', '/v1/tokens', { body: { agent: 'Agent-1', label: `round ${round}` } });
      const id = issued.json.info.id as string;
      const answers = await Promise.all([0, 1, 2].map(() => h.call('POST', `/v1/tokens/${id}/rotate`, { body: {} })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 404, 404], answers.map((a) => a.body).join('\n'));
      for (const a of answers.filter((x) => x.status === 404)) assert.equal(a.json.code, 'token_not_found');
      const live = (await h.call('GET', '/v1/tokens?agent=Agent-1')).json.tokens.filter((x: any) => x.label === `round ${round}`);
      assert.deepEqual(live.map((x: any) => x.id), [answers.find((a) => a.status === 200)?.json.info.id], 'one live token: the rotation’s');
      assert.equal((await h.call('GET', '/v1/whoami', { token: issued.json.token })).status, 401);
    }
  });
});
