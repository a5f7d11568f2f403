// Message retention on either store (SWARM_TEST_STORE): the rules choose per channel, type and
// default; only messages whose every delivery is closed and with no push queued go; a dry run
// removes nothing; removed messages are archived first; the audit chain still verifies; a bad
// rule is refused at configuration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigKey } from '../../src/config/keys.js';
import { DAY_MS, parseRetention, ruleFor } from '../../src/domain/retention.js';
import { NO_FILTER } from '../../src/domain/target.js';
import { HubError } from '../../src/errors.js';
import { SYSTEM_ACTOR } from '../../src/hub/actor.js';
import { entry } from '../../src/hub/audit.js';
import { Hub } from '../../src/hub/hub.js';
import type { Store } from '../../src/store/store.js';
import { msg } from '../conformance/fixtures.js';
import { openTestStore, storeExec, testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

const NOW = Date.UTC(2026, 10, 27, 12);

async function hubWith(t: TestContext, flags: Partial<Record<ConfigKey, unknown>>): Promise<{ hub: Hub; store: Store; where: TestStore }> {
  let close = async (): Promise<void> => {};
  t.after(() => close());
  const where = testStore(t);
  const { config } = loadConfig({ env: {}, cwd: where.dir, flags: { 'data.dir': where.dir, 'store.synchronous': 'normal', ...flags } });
  const store = await openTestStore(where);
  const hub = new Hub({ store, config, now: () => NOW });
  close = async () => {
    await hub.stop();
    await store.close();
  };
  for (const id of ['a', 'b']) await store.createAgent({ id, role: 'agent', specialty: '', capabilities: [], createdAt: NOW - 100 * DAY_MS });
  return { hub, store, where };
}

/** A message from a to b, `daysAgo` old, acknowledged unless told otherwise. */
async function sent(store: Store, daysAgo: number, o: { type?: 'text' | 'report'; channel?: string; ack?: boolean; body: string }): Promise<string> {
  const at = NOW - daysAgo * DAY_MS;
  const m = msg('a', o.channel === undefined ? ['b'] : [`#${o.channel}`], { body: o.body, type: o.type ?? 'text', createdAt: at });
  await store.appendMessage({ message: m, recipients: ['b'], requestHash: `h-${m.id}`, ...(o.channel === undefined ? {} : { channels: [o.channel] }) });
  if (o.ack !== false) await store.ack('b', [m.id], at + 1000);
  return m.id;
}

describe('message retention', () => {
  it('removes, in batches, only closed messages whose rule says so; archives them first; the audit chain still verifies', async (t) => {
    const archive = tempDir();
    const { hub, store } = await hubWith(t, { 'retention.messages': '*=7,report=60,#decisions=forever,#ops=2', 'retention.batch': 2, 'retention.archiveDir': archive });
    const gone = [
      await sent(store, 10, { body: 'old chat' }),
      await sent(store, 30, { body: 'older chat' }),
      await sent(store, 61, { type: 'report', body: 'old report' }),
      await sent(store, 3, { channel: 'ops', body: 'ops noise' }),
    ];
    const kept = [
      await sent(store, 1, { body: 'recent chat' }),
      await sent(store, 30, { type: 'report', body: 'report within 60 days' }),
      await sent(store, 90, { channel: 'decisions', body: 'a decision' }),
      await sent(store, 30, { ack: false, body: 'never acknowledged' }),
    ];
    // A message with a push still queued for a delivery target of its recipient stays too.
    await store.createTarget({ id: 'T1', agentId: 'b', settings: { kind: 'webhook', url: 'http://127.0.0.1:9/', timeoutMs: 1000 }, secret: '', filter: NO_FILTER, createdBy: 'b', createdAt: NOW - 50 * DAY_MS });
    kept.push(await sent(store, 20, { body: 'pushed later' }));
    await hub.audit.write({ actor: 'admin', action: 'test.marker' });

    const dry = await hub.retention.runFor(SYSTEM_ACTOR, { dryRun: true });
    assert.equal(dry.removed, gone.length);
    assert.deepEqual(dry.byRule, { '*': 2, report: 1, '#ops': 1 });
    for (const id of gone) assert.notEqual(await store.getMessage(id), null, 'a dry run removes nothing');

    const run = await hub.retention.runFor(SYSTEM_ACTOR, { dryRun: false });
    assert.equal(run.removed, gone.length);
    for (const id of gone) {
      assert.equal(await store.getMessage(id), null);
      assert.equal(await store.inboxItem('b', id), null, 'its deliveries went with it');
    }
    for (const id of kept) assert.notEqual(await store.getMessage(id), null);
    const lines = readFileSync(run.archive ?? '', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; body: string });
    assert.deepEqual(lines.map((l) => l.id).sort(), [...gone].sort(), 'archived before removal');
    assert.equal(run.archive?.startsWith(join(archive, 'messages-')), true);
    assert.equal((await hub.retention.run({ dryRun: false })).removed, 0, 'a second run finds nothing');
    assert.equal((await hub.audit.verify(SYSTEM_ACTOR)).ok, true);
    const history = await store.history({ viewer: null, limit: 100 });
    assert.deepEqual(history.map((m) => m.id).sort(), [...kept].sort());
  });

  it('removes audit records older than retention.auditDays, and verify proves the rest from the checkpoint', async (t) => {
    const { hub, store, where } = await hubWith(t, { 'retention.auditDays': 30, 'retention.batch': 3 });
    for (let i = 0; i < 10; i++) await store.appendAudit(entry({ actor: 'admin', action: 'old.act', target: String(i) }, NOW - (60 - i) * DAY_MS));
    for (let i = 0; i < 5; i++) await store.appendAudit(entry({ actor: 'admin', action: 'new.act', target: String(i) }, NOW - (5 - i) * DAY_MS));
    const dry = await hub.retention.runFor(SYSTEM_ACTOR, { dryRun: true });
    assert.equal(dry.auditRemoved, 10);
    assert.equal((await store.auditChain(0, 100)).length, 15, 'a dry run removes nothing');
    const run = await hub.retention.runFor(SYSTEM_ACTOR, { dryRun: false });
    assert.equal(run.auditRemoved, 10);
    const kept = await store.auditChain(0, 100);
    assert.deepEqual(kept.map((r) => r.action), ['new.act', 'new.act', 'new.act', 'new.act', 'new.act', 'retention.run'].slice(0, kept.length));
    const report = await hub.audit.verify(SYSTEM_ACTOR);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.startsAfter, 10);
    await hub.audit.write({ actor: 'admin', action: 'after.trim' });
    assert.equal((await hub.audit.verify(SYSTEM_ACTOR)).ok, true, 'appends go on chaining');
    // Removing one more record by hand (not by retention) is still found.
    await storeExec(where, 'DELETE FROM audit WHERE seq = 11');
    const broken = await hub.audit.verify(SYSTEM_ACTOR);
    assert.equal(broken.ok, false);
    assert.deepEqual(broken.problems.map((p) => p.kind), ['missing']);
  });

  it('is for admins only, and keeps everything when no rule is set', async (t) => {
    const { hub, store } = await hubWith(t, {});
    await sent(store, 400, { body: 'ancient' });
    const r = await hub.retention.run({ dryRun: false });
    assert.equal(r.removed, 0);
    const agent = { ...SYSTEM_ACTOR, principal: { ...SYSTEM_ACTOR.principal, id: 'a', role: 'agent' as const }, self: { ...SYSTEM_ACTOR.self, id: 'a', role: 'agent' as const } };
    await assert.rejects(hub.retention.runFor(agent, { dryRun: true }), (e: unknown) => e instanceof HubError && e.code === 'forbidden');
  });

  it('refuses a rule it cannot read, naming it', () => {
    for (const bad of ['x=1', '*=0', 'report', '#Not Valid=3', '*=1,*=2', 'report=forever,report=3']) {
      assert.throws(() => parseRetention(bad), Error, bad);
      assert.throws(
        () => loadConfig({ env: { SWARM_RETENTION_MESSAGES: bad }, cwd: tempDir(), flags: {} }),
        (e: unknown) => e instanceof HubError && e.code === 'config_invalid' && /retention\.messages/.test(e.message),
        bad,
      );
    }
    assert.deepEqual([...parseRetention('*=90, report=365 ,#decisions=forever').channels], [['decisions', null]]);
    // The rule that decides: the longest of its channels', else its type's, else *.
    const r = parseRetention('*=90,report=365,#ops=30,#infra=60,#decisions=forever');
    assert.deepEqual(ruleFor(r, { type: 'report', channels: ['ops', 'infra'] }), { selector: '#infra', keep: 60 });
    assert.deepEqual(ruleFor(r, { type: 'text', channels: ['ops', 'decisions'] }), { selector: '#decisions', keep: null });
    assert.deepEqual(ruleFor(r, { type: 'report', channels: ['random'] }), { selector: 'report', keep: 365 });
    assert.deepEqual(ruleFor(parseRetention('report=3'), { type: 'text', channels: [] }), { selector: '*', keep: null });
  });
});
