// Acts and their audit records, for every adapter: an act that changes who may do what (agents,
// tokens, settings) is stored with its audit records in one transaction or not at all; a token
// rotation is one step (of two at once, one wins); the hub's own credential is minted once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord, NewAuditRecord } from '../../src/domain/audit.js';
import { hashToken, newToken } from '../../src/security/tokens.js';
import type { BootstrapToken, Store, TokenRecord } from '../../src/store/store.js';
import { seed, tick } from './fixtures.js';
import type { StoreFactory } from './suite.js';

function rec(action: string, target = '', detail: Record<string, unknown> = {}): NewAuditRecord {
  return { at: tick(), actor: 'admin', action, target, requestId: null, outcome: 'ok', detail };
}

let n = 0;
function token(agentId: string, over: Partial<TokenRecord> = {}): TokenRecord {
  n += 1;
  return { id: `tok-${n}-${tick()}`, agentId, hash: hashToken(newToken()), label: 'x', createdAt: tick(), ...over };
}

async function chain(s: Store): Promise<AuditRecord[]> {
  return s.auditChain(0, 1000);
}

/** An audit callback that fails: the act must not stay. */
const failing = (): NewAuditRecord[] => {
  throw new Error('the audit write failed');
};

const live = async (s: Store, agent: string): Promise<string[]> => (await s.listTokens(agent)).map((t) => t.id).sort();

export function actsConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance, audited acts: ${name}`, () => {
    it('createAgent stores the agent, its first token and the audit records together, or none of them', async (t) => {
      const s = await make(t);
      const first = token('a');
      await assert.rejects(s.createAgent({ id: 'a', role: 'agent', specialty: '', capabilities: [], createdAt: tick() }, { token: first, audit: failing }), /the audit write failed/);
      assert.equal(await s.getAgent('a'), null, 'not registered');
      assert.equal(await s.getToken(first.id), null, 'no token');
      assert.deepEqual(await chain(s), []);

      const agent = await s.createAgent({ id: 'a', role: 'captain', specialty: '', capabilities: [], createdAt: tick() }, {
        token: first,
        audit: (a) => [rec('agent.register', a.id, { role: a.role }), rec('token.create', a.id, { token: first.id })],
      });
      assert.equal(agent.role, 'captain');
      assert.equal((await s.findToken(first.hash))?.agentId, 'a');
      assert.deepEqual((await chain(s)).map((r) => [r.seq, r.action, r.target, r.detail]), [
        [1, 'agent.register', 'a', { role: 'captain' }],
        [2, 'token.create', 'a', { token: first.id }],
      ]);
    });

    it('createToken, revokeToken and removeAgent are undone when their audit fails, and audited when they happen', async (t) => {
      const s = await make(t);
      await seed(s, 'a');
      const one = token('a');
      await assert.rejects(s.createToken(one, failing));
      assert.equal(await s.getToken(one.id), null);
      assert.equal(await s.findToken(one.hash), null);
      await s.createToken(one, ({ agentId }) => [rec('token.create', agentId, { token: one.id })]);
      assert.equal((await s.findToken(one.hash))?.tokenId, one.id);

      await assert.rejects(s.revokeToken(one.id, tick(), failing));
      assert.equal((await s.findToken(one.hash))?.tokenId, one.id, 'still live');
      assert.deepEqual(await s.revokeToken(one.id, tick(), ({ agentId }) => [rec('token.revoke', agentId, { token: one.id })]), { agentId: 'a' });
      assert.equal(await s.findToken(one.hash), null);
      assert.equal(await s.revokeToken(one.id, tick(), () => [rec('token.revoke', 'a', { again: true })]), null, 'nothing revoked, nothing audited');

      const two = token('a');
      await s.createToken(two);
      await assert.rejects(s.removeAgent('a', tick(), failing));
      assert.equal((await s.getAgent('a'))?.id, 'a', 'not removed');
      assert.equal((await s.findToken(two.hash))?.tokenId, two.id, 'its token still live');
      assert.equal(await s.removeAgent('a', tick(), ({ agentId }) => [rec('agent.remove', agentId)]), true);
      assert.equal(await s.removeAgent('a', tick(), () => [rec('agent.remove', 'a', { again: true })]), false);
      assert.deepEqual((await chain(s)).map((r) => [r.action, r.detail]), [
        ['token.create', { token: one.id }],
        ['token.revoke', { token: one.id }],
        ['agent.remove', {}],
      ]);
    });

    it('recordSettings is undone when its audit fails; the audit sees the versions it wrote', async (t) => {
      const s = await make(t);
      await assert.rejects(s.recordSettings([{ key: 'k', value: 1 }], 'admin', 'set', tick(), failing));
      assert.equal(await s.settingsVersion(), 0);
      const changes = await s.recordSettings([{ key: 'k', value: 2 }], 'admin', 'set', tick(), (done) => done.map((c) => rec('config.set', c.key, { value: c.value, previous: c.previous, version: c.version })));
      assert.deepEqual(changes.map((c) => c.version), [1]);
      assert.deepEqual(await s.recordSettings([], 'admin', 'rollback to v1', tick(), (done) => [rec('config.rollback', 'v1', { changes: done.length })]), []);
      assert.deepEqual((await chain(s)).map((r) => [r.action, r.target, r.detail]), [
        ['config.set', 'k', { value: 2, previous: null, version: 1 }],
        ['config.rollback', 'v1', { changes: 0 }],
      ]);
    });

    it('rotateToken revokes the old token and stores the new one in one step; of two rotations at once, one wins', async (t) => {
      const s = await make(t);
      await seed(s, 'a');
      const old = token('a');
      await s.createToken(old);
      const [x, y] = [token('a'), token('a')];
      const results = await Promise.all([x, y].map((next) => s.rotateToken(old.id, next, tick(), ({ agentId }) => [rec('token.revoke', agentId, { token: old.id, rotated_to: next.id })])));
      assert.deepEqual(results.filter((r) => r !== null), [{ agentId: 'a' }], 'exactly one rotation happens');
      const winner = results[0] === null ? y : x;
      assert.deepEqual(await live(s, 'a'), [winner.id], 'one live token: the winner’s');
      assert.equal(await s.findToken(old.hash), null);
      assert.deepEqual((await chain(s)).map((r) => r.detail.rotated_to), [winner.id], 'only the rotation that happened is audited');

      await assert.rejects(s.rotateToken(winner.id, token('a'), tick(), failing));
      assert.deepEqual(await live(s, 'a'), [winner.id], 'a rotation whose audit fails leaves the old token live and adds none');
      assert.equal(await s.rotateToken('unknown', token('a'), tick()), null);
      assert.deepEqual(await live(s, 'a'), [winner.id]);
    });

    it('bootstrapToken registers the agent and mints once; replaces only the labels it names', async (t) => {
      const s = await make(t);
      const agent = { id: 'admin', role: 'admin' as const, specialty: 'Hub administrator', capabilities: [], createdAt: tick() };
      const b = (over: Partial<BootstrapToken> = {}): BootstrapToken => ({ agent, token: token('admin', { label: 'admin.token' }), replacing: [], ...over });
      const first = b();
      const out = await s.bootstrapToken(first, (o) => [rec(o.registered ? 'agent.register' : 'noop', 'admin'), rec('token.create', 'admin', { token: first.token.id })]);
      assert.deepEqual(out, { minted: true, registered: true, revoked: [] });
      assert.equal((await s.getAgent('admin'))?.role, 'admin');
      assert.equal((await s.findToken(first.token.hash))?.agentId, 'admin');

      const again = b();
      assert.deepEqual(await s.bootstrapToken(again, () => [rec('token.create', 'admin')]), { minted: false, registered: false, revoked: [] }, 'a live token: none minted');
      assert.equal(await s.getToken(again.token.id), null);

      const replaced = b({ replacing: ['admin.token'] });
      assert.deepEqual(await s.bootstrapToken(replaced, failing).catch(() => 'failed'), 'failed');
      assert.equal((await s.findToken(first.token.hash))?.agentId, 'admin', 'a replacement whose audit fails changes nothing');
      assert.deepEqual(await s.bootstrapToken(replaced), { minted: true, registered: false, revoked: [first.token.id] });
      assert.equal(await s.findToken(first.token.hash), null, 'the replaced token is revoked');
      assert.deepEqual(await live(s, 'admin'), [replaced.token.id]);

      // A token an admin issued (another label) is not replaced: nothing is minted while it lives.
      const own = token('admin', { label: 'ci' });
      await s.createToken(own);
      assert.deepEqual(await s.bootstrapToken(b({ replacing: ['admin.token'] })), { minted: false, registered: false, revoked: [] });
      await s.revokeToken(own.id, tick());
      // An expired token does not count as live.
      const expired = b({ token: token('admin', { label: 'ci', expiresAt: tick() }) });
      await s.createToken(expired.token);
      await s.revokeToken(replaced.token.id, tick());
      const next = b();
      assert.deepEqual(await s.bootstrapToken(next), { minted: true, registered: false, revoked: [] });
      assert.deepEqual((await chain(s)).map((r) => r.action), ['agent.register', 'token.create']);
    });

    it('bootstrapToken with force mints beside the tokens it does not replace, revoking only those it names', async (t) => {
      const s = await make(t);
      const agent = { id: 'admin', role: 'admin' as const, specialty: '', capabilities: [], createdAt: tick() };
      const minted = token('admin', { label: 'admin.token' });
      await s.bootstrapToken({ agent, token: minted, replacing: [] });
      const own = token('admin', { label: 'ci' });
      await s.createToken(own);
      const reissued = token('admin', { label: 'admin.token' });
      const b: BootstrapToken = { agent, token: reissued, replacing: ['admin.token'], force: true };
      assert.deepEqual(await s.bootstrapToken(b, failing).catch(() => 'failed'), 'failed');
      assert.deepEqual(await live(s, 'admin'), [minted.id, own.id].sort(), 'a reissue whose audit fails changes nothing');
      assert.deepEqual(await s.bootstrapToken(b, (o) => o.revoked.map((id) => rec('token.revoke', 'admin', { token: id }))), { minted: true, registered: false, revoked: [minted.id] });
      assert.deepEqual(await live(s, 'admin'), [own.id, reissued.id].sort(), 'the admin\'s own token is kept');
      assert.equal(await s.findToken(minted.hash), null);
      assert.deepEqual((await chain(s)).map((r) => [r.action, r.detail.token]), [['token.revoke', minted.id]]);
    });

    it('bootstrapToken called many times at once mints exactly one token', async (t) => {
      const s = await make(t);
      const agent = { id: 'admin', role: 'admin' as const, specialty: '', capabilities: [], createdAt: tick() };
      const outs = await Promise.all(Array.from({ length: 6 }, () => s.bootstrapToken({ agent, token: token('admin', { label: 'admin.token' }), replacing: [] })));
      assert.equal(outs.filter((o) => o.minted).length, 1);
      assert.equal(outs.filter((o) => o.registered).length, 1);
      assert.equal((await live(s, 'admin')).length, 1);
    });
  });
}
