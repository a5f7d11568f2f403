// Bad input to the shared settings and key services: a clear 4xx, nothing changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { httpStatusOf, HubError } from '../../src/errors.js';
import { ensureAdminToken, Hub } from '../../src/hub/hub.js';
import { Keyring, newKey, parseKey } from '../../src/security/crypto.js';
import { encryptedStore } from '../../src/store/encrypted-store.js';
import { openTestStore, testStore } from '../support/store.js';
import { startTestApp } from '../support/app.js';
import { assertProblem } from './expect.js';

describe('shared settings: bad input changes nothing', () => {
  it('refuses unknown keys, a process-own key, invalid values, bad placeholders, bad versions and non-admins', async (t) => {
    const h = await startTestApp(t);
    const agent = await h.addAgent('Agent-1');
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/v1/config/presence.nope', { value: 1 }, 400, 'validation_failed'],
      ['PUT', '/v1/config/server.port', { value: 9000 }, 400, 'validation_failed'],
      ['PUT', '/v1/config/presence.idleSeconds', { value: 'soon' }, 400, 'validation_failed'],
      ['PUT', '/v1/config/presence.idleSeconds', { value: 99_999 }, 400, 'validation_failed'],
      ['PUT', '/v1/config/templates.wrapup', { value: 'bye {nope}' }, 400, 'validation_failed'],
      ['PUT', '/v1/config/presence.idleSeconds', { value: [1] }, 400, 'validation_failed'],
      ['PUT', '/v1/config/presence.idleSeconds', { val: 1 }, 400, 'validation_failed'],
      ['PUT', '/v1/config/not a key', { value: 1 }, 400, 'validation_failed'],
      ['POST', '/v1/config/rollback', { version: 7 }, 400, 'validation_failed'],
      ['POST', '/v1/config/rollback', { version: -1 }, 400, 'validation_failed'],
    ];
    for (const [method, url, body, status, code] of cases) assertProblem(await h.call(method, url, { body }), status, code);
    assertProblem(await h.call('PUT', '/v1/config/presence.idleSeconds', { token: agent, body: { value: 10 } }), 403, 'forbidden');
    assert.deepEqual((await h.call('GET', '/v1/config/history')).json.changes, [], 'no version was written');
  });
});

describe('keys: bad input changes nothing', () => {
  it('rotation refuses a malformed key with 400 (encryption on) and says encryption is off otherwise', async (t) => {
    const off = await startTestApp(t);
    assertProblem(await off.call('POST', '/v1/keys/rotate', { body: { key: newKey() } }), 400, 'validation_failed');
    assert.equal((await off.call('GET', '/v1/keys')).json.enabled, false);
    const agent = await off.addAgent('Agent-1');
    assertProblem(await off.call('GET', '/v1/keys', { token: agent }), 403, 'forbidden');
    assertProblem(await off.call('POST', '/v1/keys/rotate', { body: { key: 'x', extra: 1 } }), 400, 'validation_failed');
  });

  it('with encryption on, a malformed new key is a 400 and the current key stays', async (t) => {
    let close = async (): Promise<void> => {};
    t.after(() => close()); // added before testStore's, so it runs before the schema is dropped
    const where = testStore(t);
    const { dir } = where;
    const keyring = new Keyring(parseKey(newKey(), 'test'));
    const store = encryptedStore(await openTestStore(where), keyring);
    const hub = new Hub({ store, config: loadConfig({ env: {}, cwd: dir }).config });
    close = async () => {
      await hub.keys.stop(); // the rotation started below runs in the background
      await store.close();
    };
    await ensureAdminToken(hub, dir);
    const admin = (await store.getAgent('admin'))!;
    const actor = { principal: admin, self: admin };
    const before = keyring.currentId;
    for (const bad of ['short', 'hex:abcd', 'file:/nonexistent/key']) {
      await assert.rejects(hub.keys.rotate(actor, bad), (e: unknown) => e instanceof HubError && e.code === 'validation_failed' && httpStatusOf(e.code) === 400);
    }
    // file:PATH is a config form: over a request it would let the caller probe the hub's files.
    await assert.rejects(hub.keys.rotate(actor, 'file:/etc/hostname'), (e: unknown) => e instanceof HubError && e.code === 'validation_failed' && /not file:PATH/.test(e.message));
    assert.equal(keyring.currentId, before);
    const good = await hub.keys.rotate(actor, newKey());
    assert.notEqual(good.key, before);
  });
});
