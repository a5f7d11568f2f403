// Encryption at rest, for real: with a key configured, none of the sent subjects, bodies or
// metadata can be found in the store (SQLite: the database file and its WAL; PostgreSQL: any row
// of any table in the hub's schema); the API still reads and searches them; without the key the
// hub refuses to start; `swarm keys rotate` re-encrypts while serving, delivery targets' webhook
// secrets included (the new key alone then signs pushes the receiver verifies).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newKey } from '../../src/security/crypto.js';
import { runCli, spawnHub } from '../support/process.js';
import { serveOn, storeRows, testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';
import { startReceiver } from '../support/webhook-receiver.js';

const SECRETS = ['the launch code is swordfish-4471', 'Ünïcødé payroll figures 🚀 for Q3', 'rotate the prod database password tonight'];
const WEBHOOK_SECRET = 'whsec_the-receivers-own-secret-6160';

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

/** Like `strings | grep`: is the text anywhere in the file's bytes? */
function fileHolds(path: string, text: string): boolean {
  return existsSync(path) && readFileSync(path).includes(Buffer.from(text, 'utf8'));
}

/**
 * Is the text anywhere in the store? SQLite: in the database file or its WAL (recent commits sit
 * there while the hub runs). PostgreSQL: in any row of any table of the hub's schema, its search
 * vectors included (the server's own files are not the hub's to read).
 */
async function storeHolds(store: TestStore, text: string): Promise<string[]> {
  if (store.kind === 'sqlite') return ['swarm.db', 'swarm.db-wal'].filter((file) => fileHolds(join(store.dir, file), text));
  const tables = await storeRows<{ name: string }>(store, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
  assert.ok(tables.some((x) => x.name === 'messages'), `no hub tables in schema ${store.schema ?? ''}`);
  const holding: string[] = [];
  for (const { name } of tables) {
    const [row] = await storeRows<{ n: number }>(store, `SELECT count(*) AS n FROM "${name}" AS r WHERE strpos(r::text, ?) > 0`, [text]);
    if ((row?.n ?? 0) > 0) holding.push(name);
  }
  return holding;
}

describe('encryption at rest', () => {
  it('keeps plaintext out of the store, refuses to start without the key, and rotates while serving', { timeout: 90_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const store = testStore(t, data);
    const key1 = newKey();
    const hub = await spawnHub(data, { store, cwd: dir, env: { SWARM_ENCRYPTION_KEY: key1 } });
    t.after(() => hub.kill());
    const a1 = (await api(hub.url, hub.adminToken, 'POST', '/v1/agents', { id: 'Agent-1' })).token as string;
    await api(hub.url, hub.adminToken, 'POST', '/v1/agents', { id: 'Agent-2' });
    const ids: string[] = [];
    for (const [i, s] of SECRETS.entries()) {
      const r = await api(hub.url, a1, 'POST', '/v1/messages', { to: 'Agent-2', subject: `subject ${s}`, body: s, metadata: { note: `meta ${s}`, i } });
      ids.push(r.message.id);
    }
    const rx = await startReceiver(() => WEBHOOK_SECRET);
    t.after(() => rx.close());
    const target = await api(hub.url, hub.adminToken, 'POST', '/v1/agents/Agent-2/targets', { kind: 'webhook', url: rx.url, secret: WEBHOOK_SECRET });
    for (const s of [...SECRETS, WEBHOOK_SECRET]) assert.deepEqual(await storeHolds(store, s), [], `plaintext "${s}" in the store`);
    const back = await api(hub.url, hub.adminToken, 'GET', `/v1/messages/${ids[1]}`);
    assert.equal(back.message.body, SECRETS[1]);
    assert.deepEqual(back.message.metadata, { note: `meta ${SECRETS[1]}`, i: 1 });
    const found = await api(hub.url, hub.adminToken, 'GET', `/v1/history?search=${encodeURIComponent('payroll figures')}`);
    assert.deepEqual(found.messages.map((m: any) => m.id), [ids[1]], 'search works over encrypted messages');
    assert.equal((await api(hub.url, hub.adminToken, 'GET', '/v1/keys')).enabled, true);
    assert.equal(await hub.stop(), 0);
    for (const s of SECRETS) assert.deepEqual(await storeHolds(store, s), [], `plaintext "${s}" in the store after the hub stopped`);

    // Without the key, or with another one, the hub does not start.
    for (const env of [{}, { SWARM_ENCRYPTION_KEY: newKey() }] as Record<string, string>[]) {
      const r = await runCli(['serve', '--port', '0', '--data', data, ...serveOn(store).args], { cwd: dir, env: { ...serveOn(store).env, ...env }, timeoutMs: 20_000 });
      assert.equal(r.code, 9, r.stderr);
      assert.match(r.stderr, /^swarm: config_invalid: the store holds messages encrypted with key [0-9a-f]{16}/);
    }

    // Rotation while serving: switch to key2, everything re-encrypted under it.
    const again = await spawnHub(data, { store, cwd: dir, env: { SWARM_ENCRYPTION_KEY: key1 } });
    t.after(() => again.kill());
    const key2 = newKey();
    writeFileSync(join(dir, 'key2'), `${key2}\n`, { mode: 0o600 });
    const rot = await runCli(['keys', 'rotate', '--key-file', join(dir, 'key2'), '--json'], { cwd: dir, env: { SWARM_HUB: again.url } });
    assert.equal(rot.code, 0, rot.stderr);
    const r = JSON.parse(rot.stdout);
    assert.equal(r.rewritten, r.scanned, 'every message re-encrypted under the new key');
    assert.ok(r.scanned >= SECRETS.length);
    assert.notEqual(r.key, r.previous);
    assert.equal((await api(again.url, again.adminToken, 'GET', `/v1/messages/${ids[0]}`)).message.body, SECRETS[0]);
    const audit = await api(again.url, again.adminToken, 'GET', '/v1/audit?action=keys.rotate');
    assert.equal(audit.records.length, 1, 'the rotation is on the audit trail');
    assert.equal(audit.records[0].target, r.key);
    assert.ok(!JSON.stringify(audit.records).includes(key2), 'the audit trail names key ids, never keys');
    assert.equal(await again.stop(), 0);

    // The new key alone now reads everything, and signs with the webhook secret as given.
    const third = await spawnHub(data, { store, cwd: dir, env: { SWARM_ENCRYPTION_KEY: key2 } });
    t.after(() => third.kill());
    assert.equal((await api(third.url, third.adminToken, 'GET', `/v1/messages/${ids[2]}`)).message.body, SECRETS[2]);
    const pushed = rx.pushes.length;
    assert.equal((await api(third.url, third.adminToken, 'POST', `/v1/targets/${target.target.id as string}/test`, {})).ok, true);
    assert.equal(rx.pushes[pushed]?.body.message.sender, 'system');
    assert.equal(rx.pushes[pushed]?.verified, true, 'signed with the secret as given, opened with the new key alone');
    assert.deepEqual(rx.pushes.filter((p) => !p.verified), []);
    for (const s of SECRETS) assert.deepEqual(await storeHolds(store, s), [], `plaintext "${s}" in the store after rotation`);
  });
});
