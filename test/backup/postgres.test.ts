// `swarm backup` on PostgreSQL, with real processes: pg_dump of the hub's schema while sends run,
// the manifest read in the dump's own snapshot; verify restores it into a scratch database and
// checks counts and the audit chain there; restore refuses a schema that holds a hub and fills an
// empty database that then serves, every send answered before the backup in it.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { http, okJson, refused, registerAgents, swarm } from '../e2e/helpers.js';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

describe('swarm backup (PostgreSQL)', () => {
  it('create while sends run, verify in a scratch database, refuse a used schema, restore into an empty database that serves', { timeout: 60_000 }, async (t) => {
    const url = testDatabaseUrl();
    const schema = testSchema(t, 'swarm_bk');
    const dir = tempDir();
    const env = { SWARM_DATABASE: url, SWARM_DB_SCHEMA: schema, SWARM_AGENT_RATE: '0' };
    const hub = await spawnHub(join(dir, 'a'), { cwd: dir, env });
    t.after(() => hub.kill());
    const tokens = await registerAgents(hub.url, hub.adminToken, ['Sender-1', 'Recv-1']);
    const sent: { id: string; at: number }[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < 5000; i++) {
        const r = await http(hub.url, 'POST', '/v1/messages', { token: tokens['Sender-1'] as string, body: { to: 'Recv-1', body: `load ${i}` } });
        assert.equal(r.status, 201, JSON.stringify(r.json));
        sent.push({ id: r.json.message.id as string, at: Date.now() });
      }
    })();
    let created: any;
    let before: string[];
    try {
      for (let i = 0; i < 400 && sent.length < 100; i++) await new Promise((r) => setTimeout(r, 25));
      const startedAt = Date.now();
      created = okJson(await swarm(hub.url, ['backup', 'create', '--database', url, '--schema', schema, '--to', join(dir, 'backups'), '--json'], { cwd: dir }));
      before = sent.filter((s) => s.at <= startedAt).map((s) => s.id);
      assert.ok(before.length >= 100);
    } finally {
      running = false;
      await loop;
    }
    assert.equal(created.manifest.store, 'postgres');
    assert.ok(created.manifest.tables.messages >= before.length);
    assert.ok(created.manifest.audit_head !== null, 'registrations are audited');

    const verified = okJson(await swarm(hub.url, ['backup', 'verify', created.dir, '--database', url, '--json'], { cwd: dir }));
    assert.ok(verified.manifest.verified_at !== null);
    const leftovers = await query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'swarm_verify_%'");
    assert.deepEqual(leftovers, [], 'the scratch database is dropped');

    // Damaged dump, edited counts: exit 12.
    const flipped = join(dir, 'flipped');
    cpSync(created.dir, flipped, { recursive: true });
    const dump = readFileSync(join(flipped, 'swarm.dump'));
    for (let i = dump.length >> 1; i < (dump.length >> 1) + 32; i++) dump[i] = (dump[i] as number) ^ 0xff;
    writeFileSync(join(flipped, 'swarm.dump'), dump);
    assert.match(refused(await swarm(hub.url, ['backup', 'verify', flipped, '--database', url], { cwd: dir }), 12, 'integrity_failed'), /sha256/);
    const edited = join(dir, 'edited');
    cpSync(created.dir, edited, { recursive: true });
    const m = JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8'));
    m.tables.messages -= 1;
    writeFileSync(join(edited, 'manifest.json'), JSON.stringify(m));
    assert.match(refused(await swarm(hub.url, ['backup', 'verify', edited, '--database', url], { cwd: dir }), 12, 'integrity_failed'), /messages/);

    // The hub's own schema holds a hub: refused, nothing changed.
    const [{ n: messagesBefore }] = (await query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".messages`)) as [{ n: string }];
    assert.match(refused(await swarm(hub.url, ['backup', 'restore', created.dir, '--to', url], { cwd: dir }), 3, 'validation_failed'), /not empty/);
    assert.equal((await query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".messages`))[0]?.n, messagesBefore);

    // An empty database on the same server.
    const db = `swarm_restore_${randomBytes(6).toString('hex')}`;
    await query(`CREATE DATABASE "${db}"`);
    t.after(() => query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
    const target = new URL(url);
    target.pathname = `/${db}`;
    const restored = await swarm(hub.url, ['backup', 'restore', created.dir, '--to', target.toString()], { cwd: dir });
    assert.equal(restored.code, 0, restored.stderr);
    await hub.stop();

    const again = await spawnHub(join(dir, 'b'), { cwd: dir, env: { ...env, SWARM_DATABASE: target.toString() } });
    t.after(() => again.kill());
    const admin = hub.adminToken; // tokens are in the dump
    for (let i = 0; i < before.length; i += 50) {
      const answers = await Promise.all(before.slice(i, i + 50).map((id) => http(again.url, 'GET', `/v1/messages/${id}`, { token: admin })));
      answers.forEach((a, k) => assert.equal(a.status, 200, `message ${before[i + k]}, answered before the backup, is restored`));
    }
    assert.equal(okJson(await swarm(again.url, ['audit', 'verify', '--json'], { token: admin })).ok, true);
    const send = await http(again.url, 'POST', '/v1/messages', { token: tokens['Sender-1'] as string, body: { to: 'Recv-1', body: 'after the restore' } });
    assert.equal(send.status, 201, JSON.stringify(send.json));
  });
});
