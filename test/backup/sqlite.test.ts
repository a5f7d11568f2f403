// `swarm backup` on the embedded store, with real processes: a backup taken while sends run is a
// consistent snapshot (every send answered before it started is in it), verifies, restores into a
// new directory that serves; a damaged copy or an edited manifest fails verify (exit 12); restore
// refuses a directory that is not empty or is held by a running hub (exit 3, 14), changing nothing.
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { http, okJson, refused, registerAgents } from '../e2e/helpers.js';
import { tableCounts } from '../support/db.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { swarm } from '../e2e/helpers.js';

const NO_LIMIT = { SWARM_AGENT_RATE: '0' };

interface Sent {
  id: string;
  answeredAt: number;
}

/** `clients` loops sending to Recv-1 until stopped (at most `max` sends each); every answered send with its time. */
function sendLoop(url: string, token: string, clients: number, max: number): { sent: Sent[]; stop: () => Promise<void> } {
  const sent: Sent[] = [];
  let running = true;
  let failure: unknown = null;
  const loops = Array.from({ length: clients }, async (_, c) => {
    try {
      for (let i = 0; running && i < max; i++) {
        const r = await http(url, 'POST', '/v1/messages', { token, body: { to: 'Recv-1', body: `load ${c}-${i}` } });
        assert.equal(r.status, 201, JSON.stringify(r.json));
        sent.push({ id: r.json.message.id as string, answeredAt: Date.now() });
      }
    } catch (e) {
      failure ??= e;
      running = false;
    }
  });
  return {
    sent,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      if (failure !== null) throw failure;
    },
  };
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every file under `dir` with its size and modification time: what a refused restore must leave as it was. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.size} ${s.mtimeMs}`;
    });
}

describe('swarm backup (embedded store)', () => {
  it('create while sends run, verify, restore into a new directory: every send answered before has its message there, the audit chain verifies, the hub serves', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const hub = await spawnHub(data, { cwd: dir, env: NO_LIMIT });
    t.after(() => hub.kill());
    const tokens = await registerAgents(hub.url, hub.adminToken, ['Sender-1', 'Recv-1']);
    const load = sendLoop(hub.url, tokens['Sender-1'] as string, 3, 3000);
    try {
      await until('100 sends answered', 20_000, () => load.sent.length >= 300);
      const startedAt = Date.now();
      const created = okJson(await swarm(hub.url, ['backup', 'create', '--json'], { token: hub.adminToken, cwd: dir }));
      const before = load.sent.filter((s) => s.answeredAt <= startedAt).map((s) => s.id);
      await until('sends after the backup', 10_000, () => load.sent.some((s) => s.answeredAt > Date.now() - 50) && load.sent.length > before.length + 20);
      const id = created.manifest.id as string;
      assert.equal(created.dir, join(data, 'backups', id));
      assert.equal(created.manifest.store, 'sqlite');
      assert.equal(created.manifest.verified_at, null);
      assert.ok(created.manifest.tables.messages >= before.length, JSON.stringify(created.manifest.tables));
      assert.match(created.manifest.sha256, /^[0-9a-f]{64}$/);

      const listed = okJson(await swarm(hub.url, ['backup', 'list', '--json'], { token: hub.adminToken, cwd: dir }));
      assert.deepEqual(
        listed.backups.map((b: { id: string }) => b.id),
        [id],
      );

      // verify runs in this CLI process, on the copy: the hub keeps serving meanwhile.
      const verified = okJson(await swarm(hub.url, ['backup', 'verify', id, '--json'], { cwd: dir }));
      assert.equal(verified.ok, true);
      assert.ok(verified.manifest.verified_at !== null);
      assert.ok(JSON.parse(readFileSync(join(created.dir, 'manifest.json'), 'utf8')).verified_at !== null, 'verified_at recorded');

      const restoredDir = join(dir, 'restored');
      const restored = await swarm(hub.url, ['backup', 'restore', id, '--to', restoredDir], { cwd: dir });
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /admin\.token/);
      assert.deepEqual(readdirSync(restoredDir), ['swarm.db'], 'only the database: no admin token');
      await load.stop();

      const again = await spawnHub(restoredDir, { cwd: dir, env: NO_LIMIT });
      t.after(() => again.kill());
      assert.ok(again.adminToken !== '' && again.adminToken !== hub.adminToken, 'the restored hub minted a new admin token');
      assert.equal((await http(again.url, 'GET', '/v1/whoami', { token: hub.adminToken })).status, 401, 'the backup’s admin token was revoked');
      for (let i = 0; i < before.length; i += 50) {
        const answers = await Promise.all(before.slice(i, i + 50).map((m) => http(again.url, 'GET', `/v1/messages/${m}`, { token: again.adminToken })));
        answers.forEach((a, k) => assert.equal(a.status, 200, `message ${before[i + k]}, answered before the backup, is in the restore`));
      }
      t.diagnostic(`${before.length} sends answered before the backup; ${created.manifest.tables.messages} messages in it; ${load.sent.length} sent in all`);
      const audit = okJson(await swarm(again.url, ['audit', 'verify', '--json'], { token: again.adminToken }));
      assert.equal(audit.ok, true);
      const send = await http(again.url, 'POST', '/v1/messages', { token: tokens['Sender-1'] as string, body: { to: 'Recv-1', body: 'after the restore' } });
      assert.equal(send.status, 201, JSON.stringify(send.json));
    } finally {
      await load.stop();
    }
  });

  it('a damaged copy, or a manifest with edited counts, fails verify with exit 12; restore refuses a non-empty or running hub’s directory and changes nothing', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const hub = await spawnHub(data, { cwd: dir, env: NO_LIMIT });
    t.after(() => hub.kill());
    const tokens = await registerAgents(hub.url, hub.adminToken, ['Sender-1', 'Recv-1']);
    for (let i = 0; i < 200; i++) assert.equal((await http(hub.url, 'POST', '/v1/messages', { token: tokens['Sender-1'] as string, body: { to: 'Recv-1', body: `message ${i} ${'x'.repeat(200)}` } })).status, 201);
    const created = okJson(await swarm(hub.url, ['backup', 'create', '--to', join(dir, 'backups'), '--json'], { token: hub.adminToken, cwd: dir }));
    const good = created.dir as string;

    // Bytes flipped in the middle of the copy.
    const flipped = join(dir, 'flipped');
    cpSync(good, flipped, { recursive: true });
    const db = readFileSync(join(flipped, 'swarm.db'));
    const mid = Math.floor(db.length / 2);
    for (let i = mid; i < mid + 64; i++) db[i] = (db[i] as number) ^ 0xff;
    writeFileSync(join(flipped, 'swarm.db'), db);
    const line = refused(await swarm(hub.url, ['backup', 'verify', flipped], { cwd: dir }), 12, 'integrity_failed');
    assert.match(line, /sha256/);

    // Counts edited in the manifest.
    const edited = join(dir, 'edited');
    cpSync(good, edited, { recursive: true });
    const m2 = JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8'));
    m2.tables.messages += 1;
    writeFileSync(join(edited, 'manifest.json'), JSON.stringify(m2));
    assert.match(refused(await swarm(hub.url, ['backup', 'verify', edited], { cwd: dir }), 12, 'integrity_failed'), /messages/);
    assert.equal(JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8')).verified_at, null, 'a failed verify records nothing');

    // A damaged backup is not restored either.
    refused(await swarm(hub.url, ['backup', 'restore', flipped, '--to', join(dir, 'never')], { cwd: dir }), 12, 'integrity_failed');
    assert.throws(() => statSync(join(dir, 'never')), 'nothing created');

    // Restore refuses a directory that is not empty, and the running hub's own.
    const busy = join(dir, 'busy');
    cpSync(edited, busy, { recursive: true });
    const busyBefore = listing(busy);
    assert.match(refused(await swarm(hub.url, ['backup', 'restore', good, '--to', busy], { cwd: dir }), 3, 'validation_failed'), /not empty/);
    assert.deepEqual(listing(busy), busyBefore);
    const countsBefore = tableCounts(data);
    assert.match(refused(await swarm(hub.url, ['backup', 'restore', good, '--to', data], { cwd: dir }), 14, 'data_dir_locked'), new RegExp(`pid ${hub.proc.pid}`));
    assert.deepEqual(tableCounts(data), countsBefore);
    assert.equal((await http(hub.url, 'GET', '/v1/whoami', { token: hub.adminToken })).status, 200, 'the hub goes on serving');

    // An unknown id, and a non-admin asking the hub for a backup.
    refused(await swarm(hub.url, ['backup', 'verify', 'backup-nope'], { cwd: dir }), 4, 'not_found');
    refused(await swarm(hub.url, ['backup', 'create'], { token: tokens['Sender-1'] as string, cwd: dir }), 6, 'forbidden');
    // The good one still verifies after all that.
    okJson(await swarm(hub.url, ['backup', 'verify', good, '--json'], { cwd: dir }));
  });
});

describe('backup.schedule (embedded hub)', () => {
  it('takes and verifies a backup every interval, keeps the newest backup.keep, and reports the last good one’s age', { timeout: 40_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const hub = await spawnHub(data, { cwd: dir, env: { SWARM_BACKUP_SCHEDULE: '1s', SWARM_BACKUP_KEEP: '2' } });
    t.after(() => hub.kill());
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.adminToken}` } })).text();
      return Number(/^swarm_backup_last_good_age_seconds (\S+)$/m.exec(text)?.[1] ?? 'NaN');
    };
    const listed = async (): Promise<{ id: string; verified_at: string | null }[]> => okJson(await swarm(hub.url, ['backup', 'list', '--json'], { token: hub.adminToken, cwd: dir })).backups;
    let seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      for (const b of await listed()) seen.add(b.id);
    }
    assert.ok(seen.size >= 4, `backups seen: ${[...seen].join(', ')}`);
    const now = await listed();
    // The newest 2 are kept, plus the one being verified at this moment, if any (verification
    // runs off the event loop; older ones are pruned once it is done).
    assert.ok(now.filter((b) => b.verified_at !== null).length <= 2 && now.filter((b) => b.verified_at === null).length <= 1, `kept the newest 2: ${now.map((b) => `${b.id} ${b.verified_at ?? 'being verified'}`).join(', ')}`);
    assert.ok(now.some((b) => b.verified_at !== null), 'a verified one is kept');
    const age = await gauge();
    assert.ok(age >= 0 && age < 10, `swarm_backup_last_good_age_seconds ${age}`);
    seen = new Set(now.map((b) => b.id));
    okJson(await swarm(hub.url, ['backup', 'verify', [...seen][0] as string, '--json'], { cwd: dir }));
  });
});
