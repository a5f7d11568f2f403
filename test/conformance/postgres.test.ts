// The conformance suite against a real PostgreSQL, each test in a schema of its own (created empty,
// dropped after), plus what is PostgreSQL's own: several processes migrating one database at once,
// newer-schema refusal, leases taken concurrently by two stores, no stale credentials across stores.
// The database comes from SWARM_TEST_DATABASE_URL; `npm test` (scripts/test.mjs) always sets it,
// starting a throwaway server when needed. Without it this file fails: a skipped adapter would
// pass unnoticed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { newId } from '../../src/domain/ids.js';
import { HubError } from '../../src/errors.js';
import { hashToken, newToken } from '../../src/security/tokens.js';
import { MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { STALE_BOUND_MS } from '../../src/store/postgres/directory.js';
import { within } from '../support/within.js';
import { actsConformance } from './acts-suite.js';
import { auditConformance } from './audit-suite.js';
import { msg } from './fixtures.js';
import { loadMigrations } from '../../src/store/sql-files.js';
import { moreConformance } from './more-suite.js';
import { sealingConformance } from './sealing-suite.js';
import { storeConformance } from './suite.js';
import { targetsConformance } from './targets-suite.js';

const url = process.env.SWARM_TEST_DATABASE_URL;

if (url === undefined || url === '') {
  describe('PostgreSQL adapter', () => {
    it('needs SWARM_TEST_DATABASE_URL', () => {
      assert.fail('SWARM_TEST_DATABASE_URL is not set: run the tests with `npm test`, which provides a throwaway PostgreSQL, or point it at a database the tests may use');
    });
  });
} else {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());

  /** A fresh, empty schema of this test, dropped with everything in it when the test ends. */
  const freshSchema = async (t: TestContext): Promise<string> => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    t.after(() => admin.query(`DROP SCHEMA ${schema} CASCADE`).then(() => undefined));
    return schema;
  };

  /** Opens a store on the schema, closed when the test ends. */
  const open = async (t: TestContext, schema: string, poolSize = 4): Promise<PostgresStore> => {
    const store = await PostgresStore.open({ url, schema, poolSize });
    t.after(() => store.close());
    return store;
  };

  const postgres = async (t: TestContext): Promise<PostgresStore> => open(t, await freshSchema(t));
  storeConformance('postgres', postgres);
  moreConformance('postgres', postgres);
  targetsConformance('postgres', postgres);
  auditConformance('postgres', postgres);
  sealingConformance('postgres', postgres);
  actsConformance('postgres', postgres);


  describe('PostgreSQL adapter', () => {
    it('five stores opened at once on one empty schema migrate it exactly once', async (t) => {
      const schema = await freshSchema(t);
      const stores = await Promise.all(Array.from({ length: 5 }, () => open(t, schema, 2)));
      const { latest } = await (stores[0] as PostgresStore).schema();
      const ledger = await admin.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      assert.deepEqual(ledger.rows.map((r) => r.version), loadMigrations(MIGRATIONS_DIR).map((m) => m.version));
      for (const s of stores) assert.deepEqual(await s.schema(), { current: latest, latest });
    });

    it('creates the schema when it does not exist', async (t) => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      t.after(() => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined));
      const s = await open(t, schema);
      await s.createAgent({ id: 'a', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      const r = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.agents`);
      assert.equal(r.rows[0]?.n, 1);
    });

    it('refuses a database whose schema is newer than the code, and leaves it alone', async (t) => {
      const schema = await freshSchema(t);
      await (await PostgresStore.open({ url, schema })).close();
      await admin.query(`INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)`);
      await assert.rejects(
        PostgresStore.open({ url, schema }),
        (e: unknown) => e instanceof HubError && e.code === 'schema_too_new' && /999/.test(e.message),
      );
      const r = await admin.query<{ v: number }>(`SELECT max(version) AS v FROM ${schema}.schema_migrations`);
      assert.equal(r.rows[0]?.v, 999);
    });

    it('two stores leasing for one agent at once never hand out the same delivery twice', async (t) => {
      const schema = await freshSchema(t);
      const [a, b] = [await open(t, schema), await open(t, schema)] as const;
      await a.createAgent({ id: 'p', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      await a.createAgent({ id: 'c', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      const total = 300;
      await Promise.all(Array.from({ length: total }, () => a.appendMessage({ message: msg('p', ['c']), recipients: ['c'], requestHash: 'h' })));
      const seen: string[] = [];
      const handouts: number[] = [];
      const consumer = async (store: PostgresStore, name: string): Promise<void> => {
        for (let round = 0; ; round++) {
          const got = await store.lease([{ agentId: 'c', owner: `${name}-${round}`, limit: 7 }], { now: Date.now(), visibilityMs: 600_000, maxAttempts: 5 });
          const items = got.get(`${name}-${round}`) ?? [];
          if (items.length === 0) return;
          for (const item of items) {
            seen.push(item.message.id);
            handouts.push(item.handout);
          }
        }
      };
      await Promise.all([consumer(a, 'a1'), consumer(a, 'a2'), consumer(b, 'b1'), consumer(b, 'b2')]);
      assert.equal(new Set(seen).size, seen.length, 'no delivery handed out twice');
      assert.equal(seen.length, total, 'every delivery handed out');
      assert.equal(new Set(handouts).size, handouts.length, 'hand-out numbers are unique across stores');
    });

    it('two stores claiming tasks at once never claim the same task', async (t) => {
      const schema = await freshSchema(t);
      const [a, b] = [await open(t, schema), await open(t, schema)] as const;
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const task = await a.createTask({ id: newId(1000 + i), title: `t${i}`, description: '', points: 1, role: null, capabilities: [], priority: 'regular', createdBy: 'cap', createdAt: 1000 + i });
        ids.push(task.id);
      }
      const worker = async (store: PostgresStore, name: string): Promise<string[]> => {
        const got: string[] = [];
        for (;;) {
          const task = await store.claimNext({ id: name, role: 'agent', capabilities: [] }, Date.now());
          if (task === null) return got;
          got.push(task.id);
        }
      };
      const claimed = (await Promise.all([worker(a, 'a1'), worker(a, 'a2'), worker(b, 'b1'), worker(b, 'b2')])).flat();
      assert.equal(new Set(claimed).size, claimed.length, 'no task claimed twice');
      assert.deepEqual([...claimed].sort(), [...ids].sort(), 'every task claimed');
    });

    it('two stores recording settings at once keep versions gapless and previous values chained', async (t) => {
      const schema = await freshSchema(t);
      const [a, b] = [await open(t, schema), await open(t, schema)] as const;
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).recordSettings([{ key: 'k', value: i }, { key: `own${i}`, value: true }], `w${i}`, '', i)));
      const history = (await b.settingsHistory(100)).reverse();
      assert.deepEqual(history.map((c) => c.version), Array.from({ length: 40 }, (_, i) => i + 1));
      const ofK = history.filter((c) => c.key === 'k');
      ofK.forEach((c, i) => assert.deepEqual(c.previous, i === 0 ? null : ofK[i - 1]?.value));
      assert.equal(await a.settingsVersion(), 40);
    });

    it('stores starting at once on one schema mint one admin token between them, and two rotating one token leave one live', async (t) => {
      const schema = await freshSchema(t);
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(t, schema, 2)));
      const agent = { id: 'admin', role: 'admin' as const, specialty: '', capabilities: [], createdAt: 1 };
      const outs = await Promise.all(
        stores.map((s, i) => s.bootstrapToken({ agent, token: { id: `boot-${i}`, agentId: 'admin', hash: hashToken(newToken()), label: 'admin.token', createdAt: 2 }, replacing: [] })),
      );
      assert.deepEqual(outs.map((o) => o.minted).filter(Boolean), [true], 'exactly one minted');
      assert.deepEqual(outs.map((o) => o.registered).filter(Boolean), [true], 'exactly one registered the admin');
      const [a, b] = stores as [PostgresStore, PostgresStore];
      assert.equal((await a.listTokens('admin')).length, 1);

      await a.createToken({ id: 'old', agentId: 'admin', hash: hashToken(newToken()), label: 'ci', createdAt: 3 });
      let current = 'old';
      for (let round = 0; round < 5; round++) {
        const rotated = await Promise.all(
          [a, b].map((s, i) => s.rotateToken(current, { id: `r${round}-${i}`, agentId: 'admin', hash: hashToken(newToken()), label: 'ci', createdAt: 4 + round }, 4 + round)),
        );
        assert.equal(rotated.filter((r) => r !== null).length, 1, `round ${round}: one rotation wins`);
        const ci = (await a.listTokens('admin')).filter((x) => x.label === 'ci');
        assert.equal(ci.length, 1, `round ${round}: one live token`);
        current = ci[0]?.id ?? '';
      }
    });

    it('a token revoked through one store stops working through another within the directory bound', async (t) => {
      const schema = await freshSchema(t);
      const [a, b] = [await open(t, schema), await open(t, schema)] as const;
      await a.createAgent({ id: 'x', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      const token = newToken();
      await a.createToken({ id: 't1', agentId: 'x', hash: hashToken(token), label: '', createdAt: 1 });
      assert.deepEqual(await b.findToken(hashToken(token)), { tokenId: 't1', agentId: 'x', expiresAt: null, scopes: null });
      assert.equal((await b.getAgent('x'))?.id, 'x');
      const other = newToken();
      await a.createToken({ id: 't2', agentId: 'x', hash: hashToken(other), label: '', createdAt: 1 });
      assert.deepEqual(await b.findToken(hashToken(other)), { tokenId: 't2', agentId: 'x', expiresAt: null, scopes: null });
      assert.deepEqual(await a.revokeToken('t2', 2), { agentId: 'x' });
      // b has both tokens cached: the change reaches it over LISTEN/NOTIFY (or its version poll).
      await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(other))) === null, 'revoked through a, gone through b');
      assert.equal(await a.removeAgent('x', 2), true);
      await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(token))) === null && (await b.getAgent('x')) === null, 'removed through a, gone through b');
    });

    it('refuses text PostgreSQL cannot hold (NUL) for that send only', async (t) => {
      const s = await open(t, await freshSchema(t));
      await s.createAgent({ id: 'p', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      const good = msg('p', ['p']);
      const bad = { ...msg('p', ['p']), body: 'a\u0000b' };
      const [r1, r2] = await Promise.allSettled([
        s.appendMessage({ message: good, recipients: ['p'], requestHash: 'h' }),
        s.appendMessage({ message: bad, recipients: ['p'], requestHash: 'h' }),
      ]);
      assert.equal(r1.status, 'fulfilled');
      assert.ok(r2.status === 'rejected' && r2.reason instanceof HubError && r2.reason.code === 'validation_failed');
      assert.deepEqual((await s.history({ viewer: null, search: 'a\u0000b', limit: 5 })).length, 0);
    });

    it('indexes a large body without failing the send', async (t) => {
      const s = await open(t, await freshSchema(t));
      await s.createAgent({ id: 'p', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
      // About 1.3 MB of distinct words: more than a tsvector holds.
      const words = Array.from({ length: 40_000 }, (_, i) => `w${i.toString(36)}x${randomBytes(12).toString('hex')}`);
      const m = { ...msg('p', ['p']), body: `needle ${words.join(' ')}` };
      await s.appendMessage({ message: m, recipients: ['p'], requestHash: 'h' });
      assert.equal((await s.getMessage(m.id))?.body, m.body);
      assert.deepEqual((await s.history({ viewer: null, search: 'needle', limit: 5 })).map((x) => x.id), [m.id]);
    });

    it('sets a new connection’s search_path before the pool hands it out (no query queued behind it)', async (t) => {
      const schema = await freshSchema(t);
      // In a process of its own: node warns about a deprecation once per process. pg 8 warns when a
      // query is queued on a connection still running another; pg 9 refuses it.
      const store = new URL('../../src/store/postgres/postgres-store.js', import.meta.url).href;
      const script = `const { PostgresStore } = await import(${JSON.stringify(store)});
        const s = await PostgresStore.open({ url: ${JSON.stringify(url)}, schema: ${JSON.stringify(schema)}, poolSize: 4 });
        await Promise.all([s.ping(), s.getAgent('a'), s.getAgent('b'), s.ping()]);
        await s.close();`;
      const r = spawnSync(process.execPath, ['--throw-deprecation', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
    });
  });
}
