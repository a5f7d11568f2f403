// The PostgreSQL adapter's directory cache (src/store/postgres/directory.ts): tokens and agents are
// cached per process, and a revocation or removal through one store is refused by every other
// within STALE_BOUND_MS, whether the notification arrives, the listening connection is cut, or the
// notification is lost outright (then only the version poll can tell). That the cache answers at
// all is shown by test/unit/directory-cache.test.ts, with a clock of its own: here, on a loaded
// machine, a late poll makes the store read the database, which is right but proves nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { hashToken, newToken } from '../../src/security/tokens.js';
import { STALE_BOUND_MS } from '../../src/store/postgres/directory.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { within } from '../support/within.js';

const url = process.env.SWARM_TEST_DATABASE_URL ?? '';

describe('PostgreSQL directory cache', () => {
  assert.notEqual(url, '', 'SWARM_TEST_DATABASE_URL is not set: run the tests with `npm test`');
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());

  async function pair(t: TestContext): Promise<{ schema: string; a: PostgresStore; b: PostgresStore; token: string }> {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    t.after(() => admin.query(`DROP SCHEMA ${schema} CASCADE`).then(() => undefined));
    const a = await PostgresStore.open({ url, schema, poolSize: 2 });
    const b = await PostgresStore.open({ url, schema, poolSize: 2 });
    t.after(async () => {
      await a.close();
      await b.close();
    });
    await a.createAgent({ id: 'x', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
    const token = newToken();
    await a.createToken({ id: 't1', agentId: 'x', hash: hashToken(token), label: '', createdAt: 1 });
    // The notifications of these writes reach b (and clear its cache) a moment later: let them
    // arrive, then b reads (and caches) the token and the agent.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await b.findToken(hashToken(token)))?.tokenId, 't1');
    assert.equal((await b.getAgent('x'))?.id, 'x');
    return { schema, a, b, token };
  }

  /** The LISTEN connections of a schema's stores. */
  async function listeners(schema: string): Promise<number[]> {
    const r = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN "swarm_events_${schema}"%'`);
    return r.rows.map((x) => x.pid);
  }

  it('a revocation through one store reaches the other over LISTEN/NOTIFY', async (t) => {
    const { a, b, token } = await pair(t);
    await a.revokeToken('t1', 2);
    const ms = await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(token))) === null, 'revoked through a, refused through b');
    t.diagnostic(`refused through b after ${ms.toFixed(0)} ms`);
  });

  it('a revocation is refused within the bound when the listening connection was cut just before', async (t) => {
    const { schema, a, b, token } = await pair(t);
    const pids = await listeners(schema);
    assert.ok(pids.length >= 1, 'the stores listen');
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await a.revokeToken('t1', 2);
    const ms = await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(token))) === null, 'revoked with LISTEN cut');
    t.diagnostic(`refused through b after ${ms.toFixed(0)} ms`);
  });

  it('a removal is refused within the bound when the notification is lost (the version poll alone)', async (t) => {
    const { schema, a, b, token } = await pair(t);
    // Triggers still bump the version but notify nowhere: nothing reaches b but its poll.
    await admin.query(`UPDATE ${schema}.directory_version SET channel = 'nobody_listens'`);
    await a.removeAgent('x', 2);
    const ms = await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(token))) === null && (await b.getAgent('x')) === null, 'removed without a notification');
    t.diagnostic(`refused through b after ${ms.toFixed(0)} ms`);
  });

  it('refuses from the database, not the cache, while the version cannot be read', async (t) => {
    const { schema, b, token } = await pair(t);
    // A revocation that bumps nothing, then the version table is gone: polls fail, trust runs out,
    // and lookups go to the database, which refuses the token.
    await admin.query(`ALTER TABLE ${schema}.tokens DISABLE TRIGGER tokens_directory`);
    await admin.query(`UPDATE ${schema}.tokens SET revoked_at = 2`);
    await admin.query(`ALTER TABLE ${schema}.directory_version RENAME TO directory_version_gone`);
    const ms = await within(STALE_BOUND_MS, async () => (await b.findToken(hashToken(token))) === null, 'revoked while the version is unreadable');
    t.diagnostic(`refused through b after ${ms.toFixed(0)} ms`);
  });
});
