// `swarm token reissue-admin`: the way back in when the admin token is lost (on Kubernetes, the pod
// that minted it went before anyone copied the file, and no process mints another). Run as its own
// process against the store itself: on PostgreSQL beside a running hub, which refuses the old token
// within its directory bound and ends the streams opened with it; on SQLite with the hub stopped.
// Refusals (a malformed URL, PostgreSQL unreachable, a newer schema, --out not writable, no store,
// a running embedded hub) exit with their documented codes and change nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { STALE_BOUND_MS } from '../../src/store/postgres/directory.js';
import { openWs, sleep } from '../streams/clients.js';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, okJson, refused, within } from './helpers.js';

interface Row {
  id: string;
  label: string;
  revoked: boolean;
}

interface Audited {
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

function reissue(env: Record<string, string>, args: string[] = [], cwd = tempDir()): ReturnType<typeof runCli> {
  return runCli(['token', 'reissue-admin', ...args], { env, cwd, timeoutMs: 60_000 });
}

const pgTokens = (schema: string): Promise<Row[]> => query<Row>(`SELECT id, label, revoked_at IS NOT NULL AS revoked FROM "${schema}".tokens WHERE agent_id = 'admin' ORDER BY created_at, id`);
const pgAudit = async (schema: string): Promise<Audited[]> =>
  (await query<{ actor: string; action: string; detail: string }>(`SELECT actor, action, detail FROM "${schema}".audit ORDER BY seq`)).map((a) => ({ ...a, detail: JSON.parse(a.detail) as Record<string, unknown> }));

/** What a refusal must leave as it was in an embedded store: its admin tokens, its audit trail, its files. */
function sqliteState(data: string): { tokens: Row[]; audit: number; files: string[]; adminToken: string } {
  const db = new Database(join(data, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    const tokens = (db.prepare("SELECT id, label, revoked_at IS NOT NULL AS revoked FROM tokens WHERE agent_id = 'admin' ORDER BY created_at, id").all() as Row[]).map((r) => ({ ...r, revoked: Boolean(r.revoked) }));
    const audit = (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    return { tokens, audit, files: readdirSync(data).filter((f) => !f.startsWith('swarm.db')).sort(), adminToken: readFileSync(join(data, 'admin.token'), 'utf8') };
  } finally {
    db.close();
  }
}

describe('swarm token reissue-admin', () => {
  it('on PostgreSQL beside a running hub: the minted token is refused within the directory bound and its stream ends; the new one registers an agent; an admin\'s own token is kept; audited', { timeout: 90_000 }, async (t) => {
    const procs: HubProcess[] = [];
    t.after(() => Promise.all(procs.map((p) => p.kill()))); // before the schema is dropped
    const schema = testSchema(t, 'swarm_reissue');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    const hub = await spawnHub(join(tempDir(), 'api'), { env, args: ['--role', 'api'] });
    procs.push(hub);
    const old = hub.adminToken;
    assert.equal((await http(hub.url, 'GET', '/v1/whoami', { token: old })).status, 200, 'the minted token works (and is cached)');
    const own = await http(hub.url, 'POST', '/v1/tokens', { token: old, body: { agent: 'admin', label: 'ci' } });
    assert.equal(own.status, 201);
    const [minted] = await pgTokens(schema);
    assert.equal(minted?.label, 'admin.token');
    const ws = await openWs(t, hub.url, { token: old });
    const auditBefore = (await pgAudit(schema)).length;

    const r = okJson(await reissue(env, ['--json']));
    const done = Date.now();
    assert.deepEqual({ ...r, id: '', token: '' }, { id: '', token: '', revoked: [minted?.id], registered: false, files: [] });
    assert.match(r.token, /^swarm_[A-Za-z0-9_-]{43}$/);

    assert.equal((await within(5000, 'the old token\'s stream to end', ws.closed)).code, 4001, 'its stream ended (WebSocket 4001)');
    await sleep(Math.max(0, STALE_BOUND_MS - (Date.now() - done)));
    assert.equal((await http(hub.url, 'GET', '/v1/whoami', { token: old })).status, 401, `the old token is refused within ${STALE_BOUND_MS} ms`);
    const agent = await http(hub.url, 'POST', '/v1/agents', { token: r.token, body: { id: 'Agent-1', role: 'agent' } });
    assert.equal(agent.status, 201, 'the new token is the admin\'s');
    assert.equal((await http(hub.url, 'GET', '/v1/whoami', { token: own.json.token })).status, 200, 'a token an admin issued for admin is kept');
    assert.deepEqual(
      (await pgTokens(schema)).map((x) => [x.label, x.revoked]),
      [
        ['admin.token', true],
        ['ci', false],
        ['admin.token', false],
      ],
    );

    const audit = (await pgAudit(schema)).slice(auditBefore, auditBefore + 2);
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.detail.token, a.detail.via]),
      [
        ['hub', 'token.revoke', minted?.id, 'swarm token reissue-admin'],
        ['hub', 'token.create', r.id, 'swarm token reissue-admin'],
      ],
    );
    assert.equal(typeof audit[0]?.detail.host, 'string');
    const verify = await http(hub.url, 'GET', '/v1/audit/verify', { token: r.token });
    assert.equal(verify.status, 200, JSON.stringify(verify.json));
  });

  it('on PostgreSQL: a schema no hub made is refused (exit 9) and not created; a migrated one with no admin gets its admin (said on stderr); refusals exit 9, 8 and 10 and change nothing', { timeout: 120_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_reissue_bad');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    // A mistyped SWARM_DB_SCHEMA (or a database no hub used) must not become a new hub.
    assert.match(refused(await reissue(env), 9, 'config_invalid'), /no hub in schema .* \(no schema_migrations table\)/);
    assert.equal((await query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).length, 0, 'no schema was created');
    // The migration Job's way: the schema made, no admin minted.
    const migrated = await runCli(['serve', '--migrate-only'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
    const first = await reissue(env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, 'swarm: note: no hub had registered the admin in this store; check --database, SWARM_DB_SCHEMA or --data\n');
    const token = /^token \(shown once, keep it secret\): (swarm_\S+)$/m.exec(first.stdout)?.[1];
    assert.ok(token !== undefined, first.stdout);
    assert.match(first.stdout, /^revoked 0 admin tokens the hub had minted; new admin token [0-9a-f-]{36}$/m);
    const before = { tokens: await pgTokens(schema), audit: await pgAudit(schema) };
    assert.deepEqual(before.audit.map((a) => a.action), ['agent.register', 'token.create']);

    const dir = tempDir();
    const out = refused(await reissue(env, ['--out', join(dir, 'missing', 'admin.token')], dir), 9, 'config_invalid');
    assert.match(out, /cannot write --out .*ENOENT/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
    assert.deepEqual({ tokens: await pgTokens(schema), audit: await pgAudit(schema) }, before);

    const fresh = `${schema}_untouched`;
    t.after(() => query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`));
    const malformed = refused(await reissue({ ...env, SWARM_DB_SCHEMA: fresh, SWARM_DATABASE: 'mysql://swarm@db.internal/swarm' }), 9, 'config_invalid');
    assert.match(malformed, /store\.database must be empty, sqlite:DIR or a postgres:\/\/ URL/);
    const missing = new URL(testDatabaseUrl());
    missing.pathname = `/no_such_db_${schema}`;
    assert.match(refused(await reissue({ ...env, SWARM_DB_SCHEMA: fresh, SWARM_DATABASE: missing.href }), 8, 'store_unavailable'), /cannot connect to PostgreSQL/);
    assert.equal((await query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [fresh])).length, 0, 'no schema was created');

    // A later version of swarm migrated this database: this one must not write to it.
    const [ledger] = await query<{ v: number }>(`SELECT max(version)::int AS v FROM "${schema}".schema_migrations`);
    await query(`INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', 0)`, [(ledger?.v ?? 0) + 1]);
    assert.match(refused(await reissue(env), 10, 'schema_too_new'), /newer than this swarm knows/);
    assert.deepEqual({ tokens: await pgTokens(schema), audit: await pgAudit(schema) }, before, 'the admin\'s tokens and the audit trail are as they were');
  });

  it('on SQLite: refused while the hub runs (exit 14, naming its pid) and where there is no store (9); with the hub stopped, --out and admin.token get the new token, which the restarted hub uses', { timeout: 90_000 }, async (t) => {
    const data = join(tempDir(), '.swarm');
    const hub = await spawnHub(data);
    t.after(() => hub.kill());
    const old = hub.adminToken;
    const before = sqliteState(data);
    const busy = refused(await reissue({}, ['--data', data]), 14, 'data_dir_locked');
    assert.ok(busy.includes(`pid ${hub.proc.pid}`), busy);
    assert.match(busy, /delete .*admin\.token and restart that hub, which mints a new admin token/);
    const nowhere = join(tempDir(), 'nothing');
    assert.match(refused(await reissue({}, ['--data', nowhere]), 9, 'config_invalid'), /no hub store in .*nothing/);
    assert.equal(existsSync(nowhere), false, 'nothing created there');
    assert.equal(await hub.stop(), 0);
    assert.deepEqual(sqliteState(data), { ...before, files: before.files.filter((f) => f !== 'swarm.lock.json') }, 'nothing changed (but the stopped hub\'s lock record)');

    const dir = tempDir();
    const outFile = join(dir, 'admin.token');
    const r = okJson(await reissue({}, ['--data', data, '--out', outFile, '--json']));
    assert.equal(r.token, undefined, 'written, not printed');
    assert.deepEqual(r.files, [outFile, join(data, 'admin.token')]);
    assert.deepEqual(r.revoked, before.tokens.filter((x) => !x.revoked).map((x) => x.id));
    const token = readFileSync(outFile, 'utf8').trim();
    assert.equal(readFileSync(join(data, 'admin.token'), 'utf8').trim(), token);
    for (const f of r.files as string[]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    assert.deepEqual(readdirSync(dir), ['admin.token'], 'no staging file left');

    const again = await spawnHub(data);
    t.after(() => again.kill());
    assert.equal(again.adminToken, token, 'the restarted hub keeps the new token');
    assert.equal((await http(again.url, 'GET', '/v1/whoami', { token: old })).status, 401, 'the old one is revoked');
    assert.equal((await http(again.url, 'POST', '/v1/agents', { token, body: { id: 'Agent-1', role: 'agent' } })).status, 201);
    const audit = await http(again.url, 'GET', '/v1/audit?actor=hub', { token });
    assert.equal(audit.status, 200);
    const actions = (audit.json.records as Audited[]).filter((a) => a.detail.via === 'swarm token reissue-admin').map((a) => a.action);
    assert.deepEqual(actions.sort(), ['token.create', 'token.revoke']);
    assert.equal(await again.stop(), 0);
  });
});
