// Moving up: an embedded hub with 100,000 messages copied into PostgreSQL by `swarm migrate`,
// counts verified, and the copy usable as a hub store after (ids, inboxes, search, new sends).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import type { Message } from '../../src/domain/message.js';
import { hashToken, newToken } from '../../src/security/tokens.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { transfer } from '../../src/store/transfer.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { runCli } from '../support/process.js';
import { tempDir } from '../support/temp.js';

const AGENTS = ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-4', 'Agent-5', 'Agent-6', 'Agent-7', 'Agent-8'];

function message(i: number, at: number): Message {
  const id = newId(at);
  const sender = AGENTS[i % 8] ?? 'Agent-1';
  return {
    id,
    sender,
    to: [AGENTS[(i + 1) % 8] ?? 'Agent-2'],
    kind: 'A2A',
    type: i % 50 === 0 ? 'report' : 'text',
    priority: i % 97 === 0 ? 'urgent' : 'regular',
    subject: i % 10 === 0 ? `status ${i}` : '',
    body: `message number ${i} about deployment ${i % 13} and review ${i % 7}`,
    tags: i % 3 === 0 ? ['infra'] : [],
    threadId: id,
    replyTo: null,
    metadata: { n: i },
    createdAt: at,
    expiresAt: null,
    idempotencyKey: null,
  };
}

describe('swarm migrate', () => {
  it('copies 100,000 messages to PostgreSQL with matching counts, and the copy serves as a hub store', { timeout: 240_000 }, async (t) => {
    const dir = tempDir();
    const src = new SqliteStore({ dir, synchronous: 'normal' });
    for (const id of AGENTS) await src.createAgent({ id, role: id === 'Agent-4' ? 'captain' : 'agent', specialty: '', capabilities: [], createdAt: 1 });
    await src.autoJoin('Agent-1', 1);
    const token = newToken();
    await src.createToken({ id: 'tok-1', agentId: 'Agent-3', hash: hashToken(token), label: 'x', createdAt: 1 });
    const N = 100_000;
    let at = 1_700_000_000_000;
    for (let start = 0; start < N; start += 5000) {
      await Promise.all(
        Array.from({ length: 5000 }, (_, k) => {
          const m = message(start + k, (at += 1));
          return src.appendMessage({ message: m, recipients: m.to, requestHash: 'h', channels: (start + k) % 1000 === 0 ? ['deployments'] : [] });
        }),
      );
    }
    for (let i = 0; i < 250; i++) {
      await src.appendAudit({ at: (at += 1), actor: 'admin', action: i % 2 === 0 ? 'agent.register' : 'act.as', target: AGENTS[i % 8] ?? '', requestId: `req-${i}`, outcome: 'ok', detail: { i } });
    }
    const [first] = await src.history({ viewer: null, limit: 1 });
    const acked = await src.inbox('Agent-2', { states: ['pending', 'delivered'], limit: 10 });
    await src.ack('Agent-2', acked.map((i) => i.message.id), at);
    await src.close();

    const schema = testSchema(t, 'swarm_mig');
    const result = await transfer({ from: dir, to: testDatabaseUrl(), schema });
    const counts = Object.fromEntries(result.tables.map((r) => [r.table, r.target]));
    assert.equal(counts.messages, N);
    assert.equal(counts.deliveries, N);
    assert.equal(counts.agents, 8);
    assert.equal(counts.tokens, 1);
    assert.equal(counts.audit, 250);
    assert.equal(result.audit.records, 250, 'the audit chain verifies in the copy');
    assert.match(result.audit.head ?? '', /^250:[0-9a-f]{64}$/);
    for (const r of result.tables) assert.equal(r.target, r.source, `${r.table} count`);
    t.diagnostic(`copied ${N} messages in ${result.seconds.toFixed(1)} s`);

    const pg = await PostgresStore.open({ url: testDatabaseUrl(), schema });
    t.after(() => pg.close());
    assert.deepEqual(await pg.getMessage(first!.id), first);
    assert.equal((await pg.findToken(hashToken(token)))?.agentId, 'Agent-3');
    const still = await pg.inbox('Agent-2', { states: ['acked'], limit: 20 });
    assert.deepEqual(still.map((i) => i.message.id).sort(), acked.map((i) => i.message.id).sort(), 'acks survive the move');
    const found = await pg.history({ viewer: null, search: 'deployment 7 review 3', limit: 5 });
    assert.ok(found.length > 0, 'the search index is rebuilt');
    const fresh = message(N + 1, at + 10);
    const r = await pg.appendMessage({ message: fresh, recipients: fresh.to, requestHash: 'h' });
    assert.equal(r.status, 'created', 'new messages continue after the copied ones');
  });

  it('from the CLI: refuses a target that already holds a hub, changing nothing', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const src = new SqliteStore({ dir, synchronous: 'normal' });
    await src.createAgent({ id: 'Agent-1', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
    await src.close();
    const schema = testSchema(t, 'swarm_mig');
    const ok = await runCli(['migrate', '--from', dir, '--to', testDatabaseUrl(), '--schema', schema, '--json'], { timeoutMs: 60_000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).tables.find((x: { table: string }) => x.table === 'agents').target, 1);
    const again = await runCli(['migrate', '--from', dir, '--to', testDatabaseUrl(), '--schema', schema], { timeoutMs: 60_000 });
    assert.equal(again.code, 3);
    assert.match(again.stderr, /^swarm: validation_failed: .*already holds a hub/);
    assert.equal(again.stderr.trim().split('\n').length, 1);
  });
});
