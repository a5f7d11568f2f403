// The admin token the hub mints for itself, once (issue 12: every `api`/`config` process started on
// an empty data directory minted another non-expiring admin token). Processes starting at once on
// one PostgreSQL mint one between them; one started later on an empty directory mints none. On
// SQLite, a deleted admin.token is replaced at the next start: the token it held is revoked.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { adminTokenOf, type HubProcess, spawnHub } from '../support/process.js';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { http } from './helpers.js';

interface Live {
  id: string;
  label: string;
}

describe('the admin token', () => {
  it('api and config processes starting at once on one PostgreSQL mint one admin token; a later one on an empty directory mints none', { timeout: 90_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_admin');
    const dir = tempDir();
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    const procs: HubProcess[] = [];
    t.after(() => Promise.all(procs.map((p) => p.kill())));
    // One migrates first (as deployments start them); then three at once on the migrated schema.
    procs.push(await spawnHub(join(dir, 'w'), { env, args: ['--role', 'worker'] }));
    procs.push(...(await Promise.all(['api', 'api', 'config'].map((role, i) => spawnHub(join(dir, `p${i}`), { env, args: ['--role', role] })))));
    const live = (): Promise<Live[]> => query<Live>(`SELECT id, label FROM "${schema}".tokens WHERE agent_id = 'admin' AND revoked_at IS NULL`);
    assert.equal((await live()).length, 1, 'one live admin token');
    const files = [1, 2, 3].filter((i) => existsSync(join(dir, `p${i - 1}`, 'admin.token')));
    assert.equal(files.length, 1, 'written by the one process that minted it');
    const admin = adminTokenOf(procs);
    // The config process serves the shared settings only.
    for (const [i, p] of procs.slice(1).entries()) assert.equal((await http(p.url, 'GET', i === 2 ? '/v1/config' : '/v1/whoami', { token: admin })).status, 200, `${p.url} accepts it`);
    for (const p of procs.slice(1)) if (p.adminToken === '') assert.match(p.output(), /no admin token file here/);

    const late = await spawnHub(join(dir, 'late'), { env, args: ['--role', 'api'] });
    procs.push(late);
    assert.equal(late.adminToken, '');
    assert.equal(existsSync(join(dir, 'late', 'admin.token')), false);
    assert.deepEqual(await live(), [(await live())[0]], 'still one');
    const created = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".audit WHERE action = 'token.create' AND target = 'admin'`);
    assert.equal(created[0]?.n, 1, 'one token.create on the audit trail');
  });

  it('on SQLite, a deleted admin.token is replaced at the next start and the one it held is revoked', { timeout: 60_000 }, async (t) => {
    const data = join(tempDir(), '.swarm');
    const first = await spawnHub(data);
    t.after(() => first.kill());
    const old = first.adminToken;
    assert.equal(await first.stop(), 0);

    // A restart with the file in place mints nothing.
    const same = await spawnHub(data);
    t.after(() => same.kill());
    assert.equal(same.adminToken, old);
    assert.equal(await same.stop(), 0);

    rmSync(join(data, 'admin.token'));
    const again = await spawnHub(data);
    t.after(() => again.kill());
    assert.notEqual(again.adminToken, old);
    assert.equal((await http(again.url, 'GET', '/v1/whoami', { token: old })).status, 401, 'the token the deleted file held is revoked');
    const tokens = await http(again.url, 'GET', '/v1/tokens?agent=admin', { token: again.adminToken });
    assert.equal(tokens.status, 200);
    assert.equal(tokens.json.tokens.length, 1, 'one live admin token');
    // An admin's own admin token is left alone, and then nothing is minted in its place.
    const ci = await http(again.url, 'POST', '/v1/tokens', { token: again.adminToken, body: { agent: 'admin', label: 'ci' } });
    assert.equal(ci.status, 201);
    assert.equal(await again.stop(), 0);
    rmSync(join(data, 'admin.token'));
    const last = await spawnHub(data);
    t.after(() => last.kill());
    assert.equal(last.adminToken, '');
    assert.equal((await http(last.url, 'GET', '/v1/whoami', { token: ci.json.token })).status, 200);
    assert.equal((await http(last.url, 'GET', '/v1/whoami', { token: again.adminToken })).status, 200, 'not revoked: nothing replaced it');
  });
});
