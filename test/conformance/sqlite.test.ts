// The conformance suite against the embedded SQLite adapter, on a real file per test, plus what is
// SQLite's own: migrations ledger, newer-schema refusal, durability setting, reopening.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { HubError } from '../../src/errors.js';
import { DB_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { migrate, MIGRATIONS_DIR } from '../../src/store/sqlite/migrate.js';
import { loadMigrations } from '../../src/store/sql-files.js';
import { tempDir } from '../support/temp.js';
import type { Priority } from '../../src/domain/message.js';
import { Keyring, newKey, parseKey } from '../../src/security/crypto.js';
import { encryptedStore } from '../../src/store/encrypted-store.js';
import type { Store } from '../../src/store/store.js';
import { actsConformance } from './acts-suite.js';
import { auditConformance } from './audit-suite.js';
import { msg, seed, send } from './fixtures.js';
import { moreConformance } from './more-suite.js';
import { sealingConformance } from './sealing-suite.js';
import { storeConformance } from './suite.js';
import { targetsConformance } from './targets-suite.js';

const sqlite = async (t: TestContext): Promise<SqliteStore> => {
  const store = new SqliteStore({ dir: tempDir(), synchronous: 'normal' });
  t.after(() => store.close());
  return store;
};
storeConformance('sqlite', sqlite);
moreConformance('sqlite', sqlite);
targetsConformance('sqlite', sqlite);
// The encryption decorator seals webhook secrets and opens leased messages.
targetsConformance('sqlite encrypted', async (t): Promise<Store> => encryptedStore(await sqlite(t), new Keyring(parseKey(newKey(), 'test'))));
auditConformance('sqlite', sqlite);
sealingConformance('sqlite', sqlite);

actsConformance('sqlite', sqlite);
// The encryption decorator passes acts through with their audit records.
actsConformance('sqlite encrypted', async (t): Promise<Store> => encryptedStore(await sqlite(t), new Keyring(parseKey(newKey(), 'test'))));

// A file store commits sends and acks on its writer thread; `:memory:` commits on its own
// connection. Both paths must keep the contract.
const memory = async (t: TestContext): Promise<SqliteStore> => {
  const store = new SqliteStore({ dir: ':memory:', synchronous: 'normal' });
  t.after(() => store.close());
  return store;
};
storeConformance('sqlite :memory:', memory);
moreConformance('sqlite :memory:', memory);
targetsConformance('sqlite :memory:', memory);
sealingConformance('sqlite :memory:', memory);

// Messages that reach half the roster or more are kept apart from the per-agent inbox index
// (migration 0009) once they have 16 recipients; with 1, most messages of the suite take that path,
// mixed in one inbox with those that do not.
const fanOut = async (t: TestContext): Promise<SqliteStore> => {
  const store = new SqliteStore({ dir: tempDir(), synchronous: 'normal', fanOutMin: 1 });
  t.after(() => store.close());
  return store;
};
storeConformance('sqlite fan-out', fanOut);
moreConformance('sqlite fan-out', fanOut);

describe('SQLite adapter', () => {
  it('uses WAL and the configured synchronous mode', async (t) => {
    const dir = tempDir();
    const store = new SqliteStore({ dir, synchronous: 'full' });
    await store.close();
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    t.after(() => db.close());
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  });

  it('records migrations in a ledger and applies them once across reopenings', async (t) => {
    const dir = tempDir();
    await new SqliteStore({ dir, synchronous: 'normal' }).close();
    const again = new SqliteStore({ dir, synchronous: 'normal' });
    const schema = await again.schema();
    await again.close();
    assert.equal(schema.current, schema.latest);
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    t.after(() => db.close());
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    assert.deepEqual(rows.map((r) => r.version), loadMigrations(MIGRATIONS_DIR).map((m) => m.version), 'every migration file, once');
  });

  it('refuses a database whose schema is newer than the code, and leaves it alone', async (t) => {
    const dir = tempDir();
    await new SqliteStore({ dir, synchronous: 'normal' }).close();
    const db = new Database(join(dir, DB_FILE));
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)").run();
    db.close();
    assert.throws(
      () => new SqliteStore({ dir, synchronous: 'normal' }),
      (e: unknown) => e instanceof HubError && e.code === 'schema_too_new' && /999/.test(e.message),
    );
    const check = new Database(join(dir, DB_FILE), { readonly: true });
    t.after(() => check.close());
    assert.equal((check.prepare('SELECT max(version) v FROM schema_migrations').get() as { v: number }).v, 999);
  });

  it('upgrades a database from before deliveries were keyed by message (migration 9), keeping every delivery and its state', async (t) => {
    const dir = tempDir();
    const old = new Database(join(dir, DB_FILE));
    migrate(old, loadMigrations(MIGRATIONS_DIR).filter((m) => m.version < 9));
    old.prepare("INSERT INTO agents (id, role, created_at) VALUES ('a', 'agent', 1), ('b', 'agent', 1)").run();
    const message = old.prepare(`INSERT INTO messages (id, sender, recipients, kind, type, priority, body, thread_id, created_at)
      VALUES (?, 'a', '["b"]', 'A2A', 'text', ?, ?, ?, 2)`);
    const delivery = old.prepare('INSERT INTO deliveries (recipient, message_seq, priority, state, attempts, dead_reason) VALUES (?, ?, ?, ?, ?, ?)');
    const rows: [string, number, string, number][] = [['acked', 2, 'acked', 1], ['open', 2, 'delivered', 2], ['dead', 2, 'dead', 5], ['urgent', 3, 'pending', 0]];
    for (const [body, rank, state, attempts] of rows) {
      const id = `01J${body.toUpperCase().padEnd(23, '0')}`;
      const seq = Number(message.run(id, rank, body, id).lastInsertRowid);
      delivery.run('b', seq, rank, state, attempts, state === 'dead' ? 'not acknowledged after 5 deliveries' : null);
    }
    old.close();

    const store = new SqliteStore({ dir, synchronous: 'normal' });
    t.after(() => store.close());
    assert.equal((await store.schema()).current, loadMigrations(MIGRATIONS_DIR).length);
    assert.deepEqual(
      await store.queueStats(1_900_000_000_000),
      [{ agent: 'b', depth: 2, inFlight: 0, delayed: 0, redeliveries: 5, dead: 1, acked: 1, expired: 0 }],
      'the totals of closed deliveries are computed from the rows already there',
    );
    // Listing delivers: the pending one is delivered now.
    const listed = await store.inbox('b', { states: ['pending', 'delivered', 'read', 'acked', 'dead'], limit: 10 });
    assert.deepEqual(listed.map((i) => [i.message.body, i.delivery.state]), [['urgent', 'delivered'], ['acked', 'acked'], ['open', 'delivered'], ['dead', 'dead']]);
    assert.deepEqual((await store.deadLetters('b', 10)).map((d) => [d.item.message.body, d.attempts]), [['dead', 5]]);
    const handed = (await store.lease([{ agentId: 'b', owner: 'o', limit: 10 }], { now: 1_900_000_000_000, visibilityMs: 1000, maxAttempts: 5 })).get('o') ?? [];
    assert.deepEqual(handed.map((i) => [i.message.body, i.attempt]), [['urgent', 1], ['open', 3]], 'open ones, urgent first, attempts carried on');
  });

  it('keeps committed messages across close and reopen', async (t) => {
    const dir = tempDir();
    const s1 = new SqliteStore({ dir, synchronous: 'full' });
    await s1.createAgent({ id: 'a', role: 'agent', specialty: '', capabilities: [], createdAt: 1 });
    await s1.close();
    const s2 = new SqliteStore({ dir, synchronous: 'full' });
    t.after(() => s2.close());
    assert.equal((await s2.getAgent('a'))?.id, 'a');
  });

  it('hands out a backlog larger than what it reads at a time in inbox order, an urgent newcomer first', async (t) => {
    const store = await sqlite(t);
    await seed(store, 'a', 'b');
    const priorities: Priority[] = ['low', 'regular', 'high'];
    const sent: { id: string; rank: number; n: number }[] = [];
    for (let n = 0; n < 700; n++) {
      const priority = priorities[n % 3] as Priority;
      sent.push({ id: (await send(store, msg('a', ['b'], { priority }))).id, rank: n % 3, n });
    }
    const expected = [...sent].sort((x, y) => y.rank - x.rank || x.n - y.n).map((x) => x.id);
    const got: string[] = [];
    const lease = async (limit: number): Promise<string[]> =>
      ((await store.lease([{ agentId: 'b', owner: 'o', limit }], { now: 1_900_000_000_000, visibilityMs: 60_000, maxAttempts: 5 })).get('o') ?? []).map((i) => i.message.id);
    got.push(...(await lease(300)));
    const urgent = await send(store, msg('a', ['b'], { priority: 'urgent' }));
    const next = await lease(1);
    assert.deepEqual(next, [urgent.id], 'a new urgent delivery comes before the rest of the backlog');
    for (;;) {
      const more = await lease(97);
      if (more.length === 0) break;
      got.push(...more);
    }
    assert.deepEqual(got, expected, 'every delivery once, urgent first, then high, regular, low, oldest first');
  });

  it('goes on committing on its own connection when the writer thread dies, and says so', async (t) => {
    const warnings: string[] = [];
    const store = new SqliteStore({ dir: tempDir(), synchronous: 'full', onWarning: (m) => warnings.push(m) });
    t.after(() => store.close());
    await seed(store, 'a', 'b');
    const before = await send(store, msg('a', ['b']));
    const writer = (store as unknown as { conn: { writer: { worker: { terminate(): Promise<number> }; done: Promise<void> } | null } }).conn.writer;
    assert.ok(writer !== null, 'a file store has a writer thread');
    await writer.worker.terminate();
    await writer.done;
    assert.deepEqual(warnings, ["the store's writer thread ended; sends and acks are now committed on the event loop"]);
    const after = await send(store, msg('a', ['b']));
    const leased = (await store.lease([{ agentId: 'b', owner: 'o', limit: 10 }], { now: 1_900_000_000_000, visibilityMs: 1000, maxAttempts: 5 })).get('o') ?? [];
    assert.deepEqual(leased.map((i) => i.message.id), [before.id, after.id]);
    assert.deepEqual(await store.ack('b', [before.id, after.id], 1_900_000_000_001), { acked: [before.id, after.id], already: [] });
    assert.equal((await store.inboxItem('b', after.id))?.delivery.state, 'acked');
  });

  it('hands out a message too big to keep in memory from the file, whole', async (t) => {
    const store = await sqlite(t);
    await seed(store, 'a', 'b', 'c');
    const body = 'x'.repeat(5 * 1024 * 1024) + 'end';
    const big = await send(store, msg('a', ['b', 'c'], { body }));
    for (const agent of ['b', 'c']) {
      const [item] = (await store.lease([{ agentId: agent, owner: agent, limit: 1 }], { now: 1_900_000_000_000, visibilityMs: 1000, maxAttempts: 5 })).get(agent) ?? [];
      assert.equal(item?.message.id, big.id);
      assert.equal(item?.message.body, body);
    }
  });

  it('keeps an idle agent\'s queue bounded while sends pile up, and still hands out each delivery once, in order', async (t) => {
    const store = await sqlite(t);
    await seed(store, 'a', 'b');
    const lease = async (owner: string, limit: number, now = 1_900_000_000_000): Promise<string[]> =>
      ((await store.lease([{ agentId: 'b', owner, limit }], { now, visibilityMs: 60_000, maxAttempts: 5 })).get(owner) ?? []).map((i) => i.message.id);
    const first = await send(store, msg('a', ['b']));
    assert.deepEqual(await lease('o1', 1), [first.id], 'the queue is read, and complete');
    const sent: string[] = [];
    for (let i = 0; i < 1500; i++) sent.push((await send(store, msg('a', ['b']))).id);
    const queue = (store as unknown as { conn: { queues: Map<string, { readyCount(): number; leases: Map<string, unknown> }> } }).conn.queues.get('b');
    assert.ok(queue !== undefined && queue.readyCount() <= 1024, `ready entries in memory: ${queue?.readyCount()}`);
    const got: string[] = [];
    for (;;) {
      const more = await lease('o2', 200);
      if (more.length === 0) break;
      got.push(...more);
    }
    assert.deepEqual(got, sent, 'every delivery once, oldest first; the leased one not again');
    assert.deepEqual(await lease('o3', 10, 1_900_000_000_000 + 60_000), [first.id, ...sent.slice(0, 9)], 'ended leases come back in order');
  });
});
