// The audit trail through real processes: what a hub records (failed authentications, --as,
// registrations and removals, tokens, shared settings), who may read it, and the tampering test —
// records edited, deleted and reordered directly in the database are each named by
// `swarm audit verify`, which then exits 12.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { auditHash } from '../../src/domain/audit.js';
import { exitCodeOf } from '../../src/errors.js';
import { okJson, okText, refused, swarm } from '../e2e/helpers.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { storeRows, storeTamper, testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

interface Rec {
  seq: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  request_id: string | null;
  detail: Record<string, unknown>;
}

interface Problem {
  kind: string;
  seq: number;
  seqs?: number[];
  message: string;
}

async function hub(t: TestContext, store: TestStore): Promise<HubProcess> {
  const h = await spawnHub(store.dir, { store });
  t.after(() => h.stop());
  return h;
}

/** A hub with a few records in its chain (admin: 1-2; Agent-1, Agent-2, Agent-3: 3-8; a setting: 9), stopped. */
async function recordedHub(t: TestContext): Promise<TestStore> {
  const store = testStore(t, join(tempDir(), '.swarm'));
  const h = await hub(t, store);
  for (const id of ['Agent-1', 'Agent-2', 'Agent-3']) okJson(await swarm(h.url, ['agents', 'add', id, '--json'], { token: h.adminToken }));
  okJson(await swarm(h.url, ['config', 'set', 'presence.idleSeconds', '120', '--json'], { token: h.adminToken }));
  assert.equal(await h.stop(), 0);
  return store;
}

/** Changes the stopped hub's database directly, as an intruder with access to it would. */
function tamper(store: TestStore, sql: string[]): Promise<void> {
  return storeTamper(store, sql.map((s) => ({ sql: s })));
}

async function verifyBroken(t: TestContext, store: TestStore, args: string[] = []): Promise<{ problems: Problem[]; stderr: string; human: string }> {
  const h = await hub(t, store);
  const json = await swarm(h.url, ['audit', 'verify', '--json', ...args], { token: h.adminToken });
  // The report on stdout, then the failure: exit 12 and one stderr line.
  assert.equal(json.code, exitCodeOf('audit_broken'), `exit ${json.code}\n${json.stdout}\n${json.stderr}`);
  assert.equal(exitCodeOf('audit_broken'), 12);
  assert.match(json.stderr, /^swarm: audit_broken: .+\n$/);
  const line = json.stderr;
  const report = JSON.parse(json.stdout) as { ok: boolean; problems: Problem[]; problem_count: number };
  assert.equal(report.ok, false);
  assert.equal(report.problem_count, report.problems.length);
  const human = await swarm(h.url, ['audit', 'verify', ...args], { token: h.adminToken });
  assert.equal(human.code, 12);
  return { problems: report.problems, stderr: line, human: human.stdout };
}

describe('audit trail', () => {
  it('records failed authentications, --as, registrations, removals, tokens and settings; admins list and verify it', async (t) => {
    const store = testStore(t, join(tempDir(), '.swarm'));
    const first = await hub(t, store);
    const admin = { token: first.adminToken };
    let h = first;
    const agent = okJson(await swarm(h.url, ['agents', 'add', 'Agent-1', '--json'], admin)) as { token: string };
    okJson(await swarm(h.url, ['agents', 'add', 'Agent-2', '--json'], admin));
    const cap = okJson(await swarm(h.url, ['agents', 'add', 'cap', '-r', 'captain', '--json'], admin)) as { token: string };

    const wrong = `swarm_${'A'.repeat(43)}`;
    refused(await swarm(h.url, ['inbox'], { token: wrong }), 5, 'unauthorized');
    okJson(await swarm(h.url, ['--as', 'Agent-1', 'inbox', '--json'], { token: cap.token }));
    refused(await swarm(h.url, ['--as', 'admin', 'inbox'], { token: cap.token }), 6, 'forbidden');
    okJson(await swarm(h.url, ['config', 'set', 'presence.idleSeconds', '120', '--json'], admin));
    okText(await swarm(h.url, ['agents', 'remove', 'Agent-2'], admin));
    // Failed authentications are written once a minute per address, and when the hub stops.
    assert.equal(await first.stop(), 0);
    h = await hub(t, store);

    const { records } = okJson(await swarm(h.url, ['audit', 'list', '--json'], admin)) as { records: Rec[] };
    assert.deepEqual(
      records.map((r) => r.seq),
      records.map((_, i) => records.length - i),
      'newest first, numbered without gaps',
    );
    const find = (action: string, target: string): Rec => {
      const r = records.find((x) => x.action === action && x.target === target);
      assert.ok(r, `no ${action} ${target} in ${JSON.stringify(records, null, 1)}`);
      return r;
    };
    assert.equal(find('agent.register', 'admin').actor, 'hub');
    assert.deepEqual(find('agent.register', 'cap').detail, { role: 'captain' });
    assert.equal(find('agent.register', 'Agent-1').actor, 'admin');
    assert.equal(find('token.create', 'Agent-1').detail.label, 'initial');
    assert.ok(!JSON.stringify(records).includes(agent.token), 'tokens are never recorded');
    const failed = find('auth.failed', '');
    assert.equal(failed.actor, 'anonymous');
    assert.equal(failed.outcome, 'denied');
    assert.match(String(failed.detail.source), /127\.0\.0\.1|::1/);
    assert.equal(failed.detail.count, 1);
    assert.deepEqual(failed.detail.reasons, { 'invalid or revoked token': 1 });
    assert.match(String((failed.detail.tokens as string[])[0]), /^[0-9a-f]{16}$/);
    assert.equal(failed.request_id, null, 'an aggregate of requests');
    const asAgent = find('act.as', 'Agent-1');
    assert.equal(asAgent.actor, 'cap');
    assert.deepEqual(asAgent.detail, { method: 'GET', route: '/v1/inbox' });
    assert.ok(asAgent.request_id !== null && asAgent.request_id !== '');
    const asAdmin = find('act.as', 'admin');
    assert.equal(asAdmin.outcome, 'denied');
    assert.deepEqual(find('config.set', 'presence.idleSeconds').detail, { value: 120, previous: null, version: 1 });
    const removed = find('agent.remove', 'Agent-2');
    assert.equal(removed.actor, 'admin');

    const mine = okJson(await swarm(h.url, ['audit', 'list', '--actor', 'anonymous', '--json'], admin)) as { records: Rec[] };
    assert.deepEqual(mine.records.map((r) => r.action), ['auth.failed']);
    const acts = okJson(await swarm(h.url, ['audit', 'list', '--action', 'act.as', '-n', '1', '--json'], admin)) as { records: Rec[] };
    assert.deepEqual(acts.records.map((r) => r.target), ['admin']);
    assert.match(okText(await swarm(h.url, ['audit', 'list', '--since', '1h'], admin)), /auth\.failed/);

    const report = okJson(await swarm(h.url, ['audit', 'verify', '--json'], admin)) as { ok: boolean; records: number; head: { seq: number; hash: string } };
    assert.equal(report.ok, true);
    assert.equal(report.records, records.length);
    assert.equal(report.head.seq, records[0]?.seq);
    assert.match(okText(await swarm(h.url, ['audit', 'verify'], admin)), new RegExp(`audit chain intact: ${records.length} records, head ${report.head.seq}:${report.head.hash}`));
  });

  it('is for admins only: agents and captains get 403', async (t) => {
    const h = await hub(t, testStore(t, join(tempDir(), '.swarm')));
    const agent = okJson(await swarm(h.url, ['agents', 'add', 'Agent-1', '--json'], { token: h.adminToken })) as { token: string };
    const cap = okJson(await swarm(h.url, ['agents', 'add', 'cap', '-r', 'captain', '--json'], { token: h.adminToken })) as { token: string };
    for (const token of [agent.token, cap.token]) {
      refused(await swarm(h.url, ['audit', 'list'], { token }), 6, 'forbidden');
      refused(await swarm(h.url, ['audit', 'verify'], { token }), 6, 'forbidden');
    }
    const res = await fetch(`${h.url}/v1/audit`, { headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'forbidden');
  });

  describe('tampering', () => {
    it('an edited record: verify names it and exits 12', async (t) => {
      const store = await recordedHub(t);
      await tamper(store, [`UPDATE audit SET detail = '{"role":"admin"}' WHERE seq = 5`]);
      const { problems, stderr, human } = await verifyBroken(t, store);
      assert.deepEqual(problems.map((p) => [p.kind, p.seq]), [['edited', 5]]);
      assert.match(problems[0]?.message ?? '', /record 5 was edited/);
      assert.match(stderr, /record 5 was edited/);
      assert.match(human, /audit chain BROKEN: 1 problem/);
    });

    it('a deleted record: verify names the missing seq and exits 12', async (t) => {
      const store = await recordedHub(t);
      await tamper(store, ['DELETE FROM audit WHERE seq = 4']);
      const { problems } = await verifyBroken(t, store);
      assert.deepEqual(problems.map((p) => [p.kind, p.seq, p.seqs]), [['missing', 5, [4]]]);
      assert.match(problems[0]?.message ?? '', /record 4 is missing \(deleted\) between 3 and 5/);
    });

    it('two records swapped: verify names both and exits 12', async (t) => {
      const store = await recordedHub(t);
      await tamper(store, ['UPDATE audit SET seq = -1 WHERE seq = 3', 'UPDATE audit SET seq = 3 WHERE seq = 6', 'UPDATE audit SET seq = 6 WHERE seq = -1']);
      const { problems } = await verifyBroken(t, store);
      assert.deepEqual(problems.map((p) => [p.kind, p.seq, p.seqs]), [
        ['reordered', 3, [6]],
        ['reordered', 6, [3]],
      ]);
      assert.match(problems[0]?.message ?? '', /record 3 holds the record written as 6/);
    });

    it('a rewritten and re-hashed record breaks the link to the next one', async (t) => {
      const store = await recordedHub(t);
      // An intruder who knows the encoding rewrites record 8 with a valid hash: record 8 checks
      // out, but record 9 still points to the old hash.
      type Row = { seq: number; at: number; actor: string; action: string; target: string; request_id: string | null; outcome: 'ok'; prev_hash: string };
      const [row] = await storeRows<Row>(store, 'SELECT * FROM audit WHERE seq = 8');
      assert.ok(row);
      const detail = { label: 'forged' };
      const hash = auditHash({ seq: 8, at: row.at, actor: row.actor, action: row.action, target: row.target, requestId: row.request_id, outcome: row.outcome, detail, prevHash: row.prev_hash });
      await storeTamper(store, [{ sql: 'UPDATE audit SET detail = ?, hash = ? WHERE seq = 8', params: [JSON.stringify(detail), hash] }]);
      const { problems } = await verifyBroken(t, store);
      assert.deepEqual(problems.map((p) => [p.kind, p.seq]), [['broken_link', 9]]);
      assert.match(problems[0]?.message ?? '', /record 9 does not follow record 8/);
    });

    it('the newest records deleted: only an anchor kept elsewhere tells', async (t) => {
      const store = await recordedHub(t);
      const h = await hub(t, store);
      const head = (okJson(await swarm(h.url, ['audit', 'verify', '--json'], { token: h.adminToken })) as { head: { seq: number; hash: string } }).head;
      assert.equal(await h.stop(), 0);
      await tamper(store, [`DELETE FROM audit WHERE seq = ${head.seq}`]);
      const h2 = await hub(t, store);
      okJson(await swarm(h2.url, ['audit', 'verify', '--json'], { token: h2.adminToken }));
      assert.equal(await h2.stop(), 0);
      const { problems } = await verifyBroken(t, store, ['--anchor', `${head.seq}:${head.hash}`]);
      assert.deepEqual(problems.map((p) => [p.kind, p.seq]), [['anchor', head.seq]]);
      assert.match(problems[0]?.message ?? '', /deleted from the end/);
    });
  });
});
