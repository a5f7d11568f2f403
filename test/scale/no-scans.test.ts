// No scans on hot or periodic paths (issue 11): every statement of the send, ack, inbox, lease,
// `task next`, queue stats and sweep paths is EXPLAINed against a PostgreSQL holding 100,000
// deliveries (and 50,000 messages, 5,000 tasks, 5,000 audit records), analysed, and the test fails
// on a sequential scan of any of those large tables. The statements are the adapter's own
// (queries/*.sql, qualified as the store runs them), with parameters like the store passes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { QUERIES_DIR } from '../../src/store/postgres/connection.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { qualifyAll } from '../../src/store/postgres/qualify.js';
import { loadQueryDir } from '../../src/store/sql-files.js';
import { testDatabaseUrl } from '../support/postgres.js';

const LARGE = new Set(['messages', 'deliveries', 'tasks', 'message_channels', 'audit', 'reviews']);
const NOW = 1_800_000_000_000;
const schema = `swarm_plans_${process.pid}`;

/** The statements of each path, with parameters of the shapes the adapter passes. */
function statements(id: (n: number) => string): Record<string, Record<string, unknown[]>> {
  const one = (v: unknown): unknown[] => [v];
  const messageArrays = [
    one(id(999_999)), one('Agent-1'), one('["Agent-2"]'), one('A2A'), one('text'), one(1), one(''), one('body'), one('[]'), one(id(999_999)),
    one(null), one('{}'), one(NOW), one(null), one(null), one('h'), one(null),
  ];
  return {
    send: {
      findToken: [Buffer.alloc(32, 1)],
      getAgent: ['Agent-1'],
      directoryVersion: [],
      takeTokens: ['agent-sends:Agent-1', 20, 100, 2, NOW],
      appendMessages: [...messageArrays, one(id(999_999)), one('Agent-2'), one(1), one(id(999_999)), one('reports')],
      findIdempotent: [['Agent-1'], ['key-1']],
    },
    ack: {
      lockDeliveries: [['Agent-2', 'Agent-2'], [id(10), id(11)]],
      markAcked: [['Agent-2'], [10], [NOW], ['delivered']],
    },
    inbox: {
      inboxOpen: ['Agent-2', ['pending', 'delivered', 'read'], 50, NOW],
      inboxAll: ['Agent-2', ['pending', 'delivered', 'read', 'acked'], 50, NOW],
      inboxItem: ['Agent-2', id(10)],
      markRead: ['Agent-2', id(10), NOW],
      getMessage: [id(10)],
    },
    lease: {
      leasable: [['Agent-2', 'Agent-3'], [26, 26], NOW],
      nextHandouts: [10],
      leaseMany: [['Agent-2', 'Agent-2'], [10, 11], [1, 2], ['owner', 'owner'], NOW + 30_000, NOW],
      expireMany: [['Agent-2'], [10]],
      deadMany: [['Agent-2'], [10], NOW],
      adoptLeases: ['Agent-2', 'owner', NOW, 0],
      nackMany: ['Agent-2', [10], NOW + 1000],
      nextWake: ['Agent-2', NOW],
      addQueueCounts: [['Agent-2'], [0], [0], [0], [0], [1]],
    },
    'task next': {
      claimNext: ['Agent-3', 'agent', '["python"]', NOW],
    },
    'queue stats': {
      queueStats: [NOW],
    },
    sweep: {
      expiryMark: [],
      sweepExpired: [NOW, NOW - 120_000],
      setExpiryMark: [NOW],
      sweepDead: [NOW, 5, 1000],
      queueCountRows: [],
      silentClaims: [NOW - 600_000, 500],
      recordSeen: [['Agent-1'], [NOW]],
    },
  };
}

/** Every sequential scan in a plan, by relation. */
function seqScans(plan: Record<string, unknown>, out: string[] = []): string[] {
  if (plan['Node Type'] === 'Seq Scan') out.push(String(plan['Relation Name']));
  for (const p of (plan.Plans as Record<string, unknown>[] | undefined) ?? []) seqScans(p, out);
  return out;
}

describe('no sequential scans of large tables on the hot and periodic paths (PostgreSQL)', () => {
  const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 1 });
  let ids: string[] = [];

  before(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const store = await PostgresStore.open({ url: testDatabaseUrl(), schema, poolSize: 2 });
    await store.close();
    const s = schema;
    // 100 agents; 50,000 messages of which some expire; 2 deliveries each, mostly acknowledged.
    await pool.query(`INSERT INTO ${s}.agents (id, role, created_at, last_seen_at) SELECT 'Agent-' || i, 'agent', 0, ${NOW} - i * 60000 FROM generate_series(1, 100) i`);
    await pool.query(`INSERT INTO ${s}.messages (id, sender, recipients, kind, type, priority, body, thread_id, created_at, expires_at)
      SELECT lpad(i::text, 26, '0'), 'Agent-' || (i % 100 + 1), '[]', 'A2A', 'text', 1, 'message number ' || i, lpad(i::text, 26, '0'), ${NOW} - 50000 + i,
             CASE WHEN i % 10 = 0 THEN ${NOW} - 50000 + i + 1000 END
      FROM generate_series(1, 50000) i`);
    await pool.query(`INSERT INTO ${s}.deliveries (recipient, message_seq, priority, state, attempts, lease_until, visible_at, dead_at)
      SELECT 'Agent-' || ((m.seq + k) % 100 + 1), m.seq, 1,
             CASE WHEN m.seq % 50 = 0 THEN 'dead' WHEN m.seq > 49000 THEN 'delivered' ELSE 'acked' END,
             CASE WHEN m.seq % 50 = 0 THEN 5 ELSE 1 END,
             CASE WHEN m.seq > 49900 THEN ${NOW} + 30000 END,
             CASE WHEN m.seq BETWEEN 49800 AND 49850 THEN ${NOW} + 5000 END,
             CASE WHEN m.seq % 50 = 0 THEN ${NOW} END
      FROM ${s}.messages m CROSS JOIN generate_series(0, 1) k`);
    await pool.query(`INSERT INTO ${s}.message_channels (channel, message_seq) SELECT 'reports', seq FROM ${s}.messages WHERE seq % 5 = 0`);
    await pool.query(`INSERT INTO ${s}.tasks (id, title, points, role, capabilities, priority, status, assignee, claimed_at, created_by, created_at)
      SELECT 't' || i, 'task ' || i, 10, NULL, (CASE WHEN i % 3 = 0 THEN '["go"]' ELSE '[]' END)::jsonb, i % 3,
             CASE WHEN i % 4 = 0 THEN 'open' WHEN i % 4 = 1 THEN 'claimed' ELSE 'verified' END,
             CASE WHEN i % 4 = 0 THEN NULL ELSE 'Agent-' || (i % 100 + 1) END, CASE WHEN i % 4 = 0 THEN NULL ELSE ${NOW} - 3600000 END, 'Agent-4', 0
      FROM generate_series(1, 5000) i`);
    await pool.query(`INSERT INTO ${s}.audit (seq, at, actor, action, outcome, prev_hash, hash) SELECT i, i, 'admin', 'token.create', 'ok', '', '' FROM generate_series(1, 5000) i`);
    await pool.query(`ANALYZE`);
    ids = (await pool.query<{ id: string }>(`SELECT id FROM ${s}.messages ORDER BY seq`)).rows.map((r) => r.id);
    const [n] = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.deliveries`)).rows;
    assert.equal(n?.n, 100_000);
  });
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  const queries = qualifyAll(loadQueryDir(QUERIES_DIR), schema);
  // Paths are known now; their parameters (real message ids) once the data is in.
  for (const path of Object.keys(statements(() => ''))) {
    it(`the ${path} path`, async () => {
      const found: string[] = [];
      for (const [name, params] of Object.entries(statements((n) => ids[n] ?? '')[path] ?? {})) {
        const sql = queries[name];
        assert.ok(sql !== undefined, `no query ${name}`);
        const r = await pool.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        const plan = r.rows[0]?.['QUERY PLAN'][0]?.Plan;
        assert.ok(plan !== undefined);
        for (const rel of seqScans(plan)) if (LARGE.has(rel)) found.push(`${name}: Seq Scan on ${rel}`);
      }
      assert.deepEqual(found, [], `sequential scans of large tables on the ${path} path`);
    });
  }
});
