// Encryption at rest across the upgrade that records sealing in a column (SQLite migration 0010,
// PostgreSQL 0007). A store written by an older hub holds old-format ciphertext
// (`enc:v1:<key id>:…`, no associated data) and, as plain text, whatever senders wrote, some of it
// in that same shape. Upgraded, each such value is classified by whether it authenticates under a
// configured key, never by its prefix: real ciphertext reads as its plaintext, the rest as it was
// sent; the hub starts with and without a key; a rotation then re-seals everything and leaves no
// old-format row behind.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { newKey } from '../../src/security/crypto.js';
import { migrate as migratePostgres, MIGRATIONS_DIR as PG_MIGRATIONS } from '../../src/store/postgres/migrate.js';
import { loadMigrations } from '../../src/store/sql-files.js';
import { migrate as migrateSqlite, MIGRATIONS_DIR as SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrate.js';
import { testDatabaseUrl } from '../support/postgres.js';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { call, idOf, legacyValue } from '../support/sealed.js';
import { storeRows, testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

interface OldRow {
  id: string;
  subject: string;
  body: string;
  metadata: Record<string, unknown>;
}

const COLUMNS = '(id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, metadata, created_at)';

/** A store at the schema before sealing was recorded, holding `rows` as an older hub wrote them. */
async function oldStore(store: TestStore, rows: OldRow[]): Promise<void> {
  const values = (r: OldRow, i: number): unknown[] => [r.id, 'Agent-1', '["Agent-2"]', 'A2A', 'text', 1, r.subject, r.body, '[]', r.id, JSON.stringify(r.metadata), 1_800_000_000_000 + i];
  if (store.kind === 'sqlite') {
    mkdirSync(store.dir, { recursive: true });
    const db = new Database(join(store.dir, 'swarm.db'));
    migrateSqlite(db, loadMigrations(SQLITE_MIGRATIONS).filter((m) => m.version < 10));
    const insert = db.prepare(`INSERT INTO messages ${COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    rows.forEach((r, i) => insert.run(...values(r, i)));
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: testDatabaseUrl() });
  await c.connect();
  try {
    await migratePostgres(c, store.schema, loadMigrations(PG_MIGRATIONS).filter((m) => m.version < 7));
    for (const [i, r] of rows.entries()) {
      await c.query(`INSERT INTO "${store.schema}".messages ${COLUMNS} VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::json, $12)`, values(r, i));
    }
  } finally {
    await c.end();
  }
}

async function readsAs(h: HubProcess, expected: OldRow[], when: string): Promise<void> {
  for (const e of expected) {
    const r = await call(h.url, h.adminToken, 'GET', `/v1/messages/${e.id}`);
    assert.equal(r.status, 200, `${when}: ${e.id}: ${JSON.stringify(r.json)}`);
    assert.deepEqual({ id: e.id, subject: r.json.message.subject, body: r.json.message.body, metadata: r.json.message.metadata }, e, when);
  }
}

describe('encryption at rest: a store from before sealing was recorded', () => {
  it('tells old ciphertext from look-alike text by authentication, starts with and without a key, and rotates the old rows away', { timeout: 120_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const store = testStore(t, data);
    const key1 = newKey();
    const stranger = newKey();
    const forgedBody = `enc:v1:${idOf(key1)}:${Buffer.alloc(40, 7).toString('base64')}`;
    // As stored by the older hub (ids in time order: the look-alikes are the newest, as an attack would be).
    const stored: OldRow[] = [
      { id: '01J0000000000000000000000A', subject: legacyValue(key1, 'old subject'), body: legacyValue(key1, 'old body, encrypted by the hub'), metadata: { $enc: legacyValue(key1, '{"n":1}') } },
      { id: '01J0000000000000000000000B', subject: '', body: legacyValue(key1, 'second old body'), metadata: {} },
      { id: '01J0000000000000000000000C', subject: 'a plain subject', body: 'hello, plain', metadata: { plain: true } },
      { id: '01J0000000000000000000000D', subject: 'enc:v1:0123456789abcdef:AAAA', body: legacyValue(stranger, 'under a key this hub never had'), metadata: { $enc: 'enc:v1:0123456789abcdef:AAAA' } },
      { id: '01J0000000000000000000000E', subject: 'forged', body: forgedBody, metadata: { $enc: forgedBody } },
    ];
    const [l1, l2, plain, lookAlike, forged] = stored as [OldRow, OldRow, OldRow, OldRow, OldRow];
    const decrypted: OldRow[] = [{ id: l1.id, subject: 'old subject', body: 'old body, encrypted by the hub', metadata: { n: 1 } }, { id: l2.id, subject: '', body: 'second old body', metadata: {} }, plain, lookAlike, forged];
    await oldStore(store, stored);

    // Upgraded and started without a key: it starts, and serves every row as stored.
    let h = await spawnHub(data, { store });
    t.after(() => h.kill());
    await readsAs(h, stored, 'no key');
    assert.match(h.output(), /old encrypted format \(enc:v1:\)/, 'an operator is told');
    const marks = await storeRows<{ id: string; sealed: string | null }>(store, 'SELECT id, sealed FROM messages ORDER BY id');
    assert.deepEqual(
      marks.map((m) => m.sealed),
      ['legacy', 'legacy', null, 'legacy', 'legacy'],
      'rows with a value of the old shape are marked to be tried, the others are plain',
    );
    assert.equal(await h.stop(), 0);

    // With the key: what authenticates under it is ciphertext; the rest is what was sent.
    h = await spawnHub(data, { store, env: { SWARM_ENCRYPTION_KEY: key1 } });
    t.after(() => h.kill());
    await readsAs(h, decrypted, 'with the key');
    assert.doesNotMatch(h.output(), new RegExp(`naming keys? [^:]*${idOf(key1)}`), 'the configured key is not reported missing');
    assert.match(h.output(), new RegExp(idOf(stranger)));

    // A rotation (no new key) re-seals every message, the plain one too; no old-format row is left.
    const rot = await runCli(['keys', 'rotate', '--json'], { env: { SWARM_HUB: h.url, SWARM_TOKEN: h.adminToken } });
    assert.equal(rot.code, 0, rot.stderr);
    const r = JSON.parse(rot.stdout);
    assert.deepEqual([r.state, r.scanned, r.rewritten, r.skipped], ['done', stored.length, stored.length, 0]);
    assert.deepEqual((await storeRows<{ sealed: string }>(store, 'SELECT sealed FROM messages ORDER BY id')).map((m) => m.sealed), stored.map(() => idOf(key1)));
    await readsAs(h, decrypted, 'after the rotation');
    assert.equal(await h.stop(), 0);

    h = await spawnHub(data, { store, env: { SWARM_ENCRYPTION_KEY: key1 } });
    t.after(() => h.kill());
    await readsAs(h, decrypted, 'restarted after the rotation');
    assert.doesNotMatch(h.output(), /old encrypted format/, 'nothing left to warn about');
    assert.equal(await h.stop(), 0);
  });
});
