// Sweeps run once however many workers share a PostgreSQL: one store leads (a session advisory lock
// on its own connection), the others do not, and when the leader goes another takes over.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { within } from '../support/within.js';

const url = process.env.SWARM_TEST_DATABASE_URL ?? '';

describe('PostgreSQL sweeper leadership', () => {
  assert.notEqual(url, '', 'SWARM_TEST_DATABASE_URL is not set: run the tests with `npm test`');
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());

  it('one of three stores leads; when it closes or its connection is cut, another takes over', async (t) => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    t.after(() => admin.query(`DROP SCHEMA ${schema} CASCADE`).then(() => undefined));
    const stores = await Promise.all([0, 1, 2].map(() => PostgresStore.open({ url, schema, poolSize: 2 })));
    t.after(() => Promise.all(stores.map((s) => s.close())));
    const leaders = async (): Promise<number[]> => {
      const out: number[] = [];
      for (const [i, s] of stores.entries()) if (await s.lead('sweeper')) out.push(i);
      return out;
    };
    const first = await leaders();
    assert.equal(first.length, 1, `exactly one leads, got ${first.join(', ')}`);
    assert.deepEqual(await leaders(), first, 'and keeps leading');

    // Its connection is cut (as when the process is killed): another one leads at its next try.
    const [pid] = (await admin.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = (hashtextextended($1, 0) & 4294967295)::oid`, [`swarm.sweeper:${schema}`])).rows.map((r) => r.pid);
    assert.ok(pid !== undefined, 'the lock is held by a backend');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await within(2000, async () => (await leaders()).length === 1, 'a leader again');
    const second = await leaders();
    assert.equal(second.length, 1);

    // The leader closes: one of the others takes over.
    await stores[second[0] as number]?.close();
    const rest = stores.filter((_, i) => i !== second[0]);
    await within(2000, async () => {
      let n = 0;
      for (const s of rest) if (await s.lead('sweeper')) n += 1;
      return n === 1;
    }, 'one of the remaining stores leads');
  });
});
