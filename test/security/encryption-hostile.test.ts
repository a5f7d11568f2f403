// Encryption at rest against a hostile sender and a hostile database (issue 12, item 1).
//
// Whether a message is encrypted used to be read from its text: a body starting with
// `enc:v1:<16 hex>:` sent by an ordinary agent made the next `swarm serve` exit config_invalid,
// and a ciphertext copied from another message was decrypted and served as that message's text.
// Here an ordinary agent sends text of every such shape (a real old-format ciphertext under the
// hub's key, and a ciphertext copied out of the store, among them) in subject, body and metadata;
// the hub restarts with and without a key and serves every one back exactly as sent. Then the
// store is tampered with: ciphertexts swapped between two messages, and between two fields of
// one, make those messages fail to read with `integrity_failed`, never show another's text.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { newKey } from '../../src/security/crypto.js';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { call, idOf, legacyValue, ok } from '../support/sealed.js';
import { serveOn, storeRows, storeTamper, testStore, type TestStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

interface Sent {
  id: string;
  subject: string;
  body: string;
  metadata: Record<string, unknown>;
}

async function hub(t: TestContext, data: string, store: TestStore, key: string | null): Promise<HubProcess> {
  const h = await spawnHub(data, { store, env: { SWARM_AGENT_RATE: '0', ...(key === null ? {} : { SWARM_ENCRYPTION_KEY: key }) } });
  t.after(() => h.kill());
  return h;
}

async function send(h: HubProcess, token: string, m: Omit<Sent, 'id'>): Promise<Sent> {
  const r = await call(h.url, token, 'POST', '/v1/messages', { to: 'Agent-2', ...m });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { id: r.json.message.id as string, ...m };
}

/** Every message reads back exactly as it was sent, by its recipient and in the recipient's inbox. */
async function servedAsSent(h: HubProcess, token: string, sent: Sent[], when: string): Promise<void> {
  for (const s of sent) {
    const r = await call(h.url, token, 'GET', `/v1/messages/${s.id}`);
    assert.equal(r.status, 200, `${when}: message ${s.id}: ${JSON.stringify(r.json)}`);
    assert.deepEqual({ subject: r.json.message.subject, body: r.json.message.body, metadata: r.json.message.metadata }, { subject: s.subject, body: s.body, metadata: s.metadata }, `${when}: message ${s.id}`);
  }
  const inbox = await ok(h.url, token, 'GET', '/v1/inbox?all=true&limit=500');
  const byId = new Map((inbox.items as any[]).map((i) => [i.message.id, i.message]));
  for (const s of sent) assert.equal(byId.get(s.id)?.body, s.body, `${when}: inbox copy of ${s.id}`);
}

describe('encryption at rest: text that looks like ciphertext', () => {
  it('an ordinary agent cannot stop the hub from restarting, nor get another message decrypted for it', { timeout: 120_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const store = testStore(t, data);
    const key1 = newKey();
    const id1 = idOf(key1);

    // A hub without encryption; Agent-1 is an ordinary agent.
    let h = await hub(t, data, store, null);
    const a1 = (await ok(h.url, h.adminToken, 'POST', '/v1/agents', { id: 'Agent-1' })).token as string;
    const a2 = (await ok(h.url, h.adminToken, 'POST', '/v1/agents', { id: 'Agent-2' })).token as string;
    const shapes = [
      'enc:v1:0123456789abcdef:AAAA',
      legacyValue(key1, 'forged by Agent-1 under the key the hub will get'),
      legacyValue(newKey(), 'under a key the hub never has'),
      `enc:v1:${id1}:not base64 at all!`,
      `enc:v1:${id1}:${Buffer.alloc(40).toString('base64')}`,
      'enc:v1:',
      `enc:v1:${'f'.repeat(16)}:`,
    ];
    const sent: Sent[] = [];
    for (const s of shapes) {
      sent.push(await send(h, a1, { subject: s, body: s, metadata: { $enc: s } }));
      sent.push(await send(h, a1, { subject: '', body: `before ${s}`, metadata: { $enc: s, other: 1 } }));
    }
    await servedAsSent(h, a2, sent, 'as sent');
    assert.equal(await h.stop(), 0);

    // Restarted without a key: it starts, and serves them as sent.
    h = await hub(t, data, store, null);
    await servedAsSent(h, a2, sent, 'restarted without a key');
    assert.equal(await h.stop(), 0);

    // Encryption turned on: it starts; what was stored before is still plain text.
    h = await hub(t, data, store, key1);
    await servedAsSent(h, a2, sent, 'restarted with a key');

    // A real ciphertext of this hub, copied out of the store into a new message by Agent-1.
    const secret = await send(h, a2, { subject: 'the secret subject', body: 'the launch code is swordfish-4471', metadata: { code: 4471 } });
    const [raw] = await storeRows<{ subject: string; body: string; metadata: string }>(store, 'SELECT subject, body, metadata FROM messages WHERE id = ?', [secret.id]);
    assert.ok(raw !== undefined && !raw.body.includes('swordfish'), 'stored encrypted');
    const metadata = JSON.parse(typeof raw.metadata === 'string' ? raw.metadata : JSON.stringify(raw.metadata)) as Record<string, unknown>;
    sent.push(await send(h, a1, { subject: raw.subject, body: raw.body, metadata }));
    sent.push(await send(h, a1, { subject: raw.body, body: `enc:v1:${id1}:${raw.body}`, metadata: { $enc: raw.body } }));
    await servedAsSent(h, a2, sent, 'copies of a ciphertext');
    assert.equal((await ok(h.url, a2, 'GET', `/v1/messages/${secret.id}`)).message.body, secret.body);

    // A rotation re-encrypts the older plain messages; they are still exactly what was sent.
    const rot = await runCli(['keys', 'rotate', '--json'], { env: { SWARM_HUB: h.url, SWARM_TOKEN: h.adminToken } });
    assert.equal(rot.code, 0, rot.stderr);
    assert.equal(JSON.parse(rot.stdout).state, 'done');
    await servedAsSent(h, a2, sent, 'after a rotation');
    assert.equal(await h.stop(), 0);
    h = await hub(t, data, store, key1);
    await servedAsSent(h, a2, sent, 'restarted after the rotation');
    assert.equal(await h.stop(), 0);

    // Now the store does hold ciphertext (the column says so): without the key, the hub refuses.
    const refused = await runCli(['serve', '--port', '0', '--data', data, ...serveOn(store).args], { env: serveOn(store).env, timeoutMs: 20_000 });
    assert.equal(refused.code, 9, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^swarm: config_invalid: the store holds messages encrypted with key ${id1}`));
  });

  it('a ciphertext moved to another message or another field fails to read with integrity_failed', { timeout: 90_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const store = testStore(t, data);
    const key = newKey();
    let h = await hub(t, data, store, key);
    const a1 = (await ok(h.url, h.adminToken, 'POST', '/v1/agents', { id: 'Agent-1' })).token as string;
    await ok(h.url, h.adminToken, 'POST', '/v1/agents', { id: 'Agent-2' });
    const alpha = await send(h, a1, { subject: 'alpha subject', body: 'alpha body', metadata: { n: 1 } });
    const bravo = await send(h, a1, { subject: 'bravo subject', body: 'bravo body', metadata: { n: 2 } });
    const charlie = await send(h, a1, { subject: 'charlie subject', body: 'charlie body', metadata: { n: 3 } });
    const delta = await send(h, a1, { subject: 'delta subject', body: 'delta body', metadata: { n: 4 } });
    assert.equal(await h.stop(), 0);

    const rows = await storeRows<{ id: string; subject: string; body: string; metadata: unknown }>(store, 'SELECT id, subject, body, metadata FROM messages WHERE id IN (?, ?, ?)', [alpha.id, bravo.id, charlie.id]);
    const row = (id: string): { subject: string; body: string; metadata: unknown } => rows.find((r) => r.id === id) as never;
    const metaText = (m: unknown): string => (typeof m === 'string' ? m : JSON.stringify(m));
    await storeTamper(store, [
      // alpha and bravo swap bodies; charlie's subject becomes its own body's ciphertext.
      { sql: 'UPDATE messages SET body = ? WHERE id = ?', params: [row(bravo.id).body, alpha.id] },
      { sql: 'UPDATE messages SET body = ? WHERE id = ?', params: [row(alpha.id).body, bravo.id] },
      { sql: 'UPDATE messages SET subject = ? WHERE id = ?', params: [row(charlie.id).body, charlie.id] },
    ]);

    h = await hub(t, data, store, key);
    for (const [m, field] of [
      [alpha, 'body'],
      [bravo, 'body'],
      [charlie, 'subject'],
    ] as const) {
      const r = await call(h.url, h.adminToken, 'GET', `/v1/messages/${m.id}`);
      assert.equal(r.status, 500, `${m.id}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.code, 'integrity_failed');
      assert.match(r.json.detail, new RegExp(`the stored ${field} of message ${m.id} fails authentication`));
      assert.doesNotMatch(JSON.stringify(r.json), /(alpha|bravo|charlie) (body|subject)/, 'no plaintext, its own or another message\'s, in the answer');
    }
    assert.equal((await ok(h.url, h.adminToken, 'GET', `/v1/messages/${delta.id}`)).message.body, 'delta body', 'untouched messages still read');

    // Metadata moved from bravo into alpha fails the same way (bodies put back first).
    assert.equal(await h.stop(), 0);
    await storeTamper(store, [
      { sql: 'UPDATE messages SET body = ? WHERE id = ?', params: [row(alpha.id).body, alpha.id] },
      { sql: 'UPDATE messages SET body = ? WHERE id = ?', params: [row(bravo.id).body, bravo.id] },
      { sql: store.kind === 'postgres' ? 'UPDATE messages SET metadata = ?::json WHERE id = ?' : 'UPDATE messages SET metadata = ? WHERE id = ?', params: [metaText(row(bravo.id).metadata), alpha.id] },
    ]);
    h = await hub(t, data, store, key);
    const moved = await call(h.url, h.adminToken, 'GET', `/v1/messages/${alpha.id}`);
    assert.equal(moved.json.code, 'integrity_failed', JSON.stringify(moved.json));
    assert.match(moved.json.detail, /the stored metadata of message/);
    assert.equal((await ok(h.url, h.adminToken, 'GET', `/v1/messages/${bravo.id}`)).message.body, 'bravo body', 'put back, it reads again');

    // A rotation leaves the unreadable ones as they are, counts them, and says so (exit 12).
    writeFileSync(join(dir, 'key2'), newKey());
    const rot = await runCli(['keys', 'rotate', '--key-file', join(dir, 'key2'), '--json'], { env: { SWARM_HUB: h.url, SWARM_TOKEN: h.adminToken } });
    assert.equal(rot.code, 12, rot.stderr);
    const r = JSON.parse(rot.stdout);
    assert.equal(r.state, 'done');
    assert.equal(r.skipped, 2, 'alpha (metadata) and charlie (subject)');
    assert.match(rot.stderr, /^swarm: integrity_failed: 2 messages could not be read/);
    assert.equal((await call(h.url, h.adminToken, 'GET', `/v1/messages/${charlie.id}`)).json.code, 'integrity_failed');
    assert.equal((await ok(h.url, h.adminToken, 'GET', `/v1/messages/${delta.id}`)).message.body, 'delta body');
  });
});
