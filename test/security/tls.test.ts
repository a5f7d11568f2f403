// TLS: the hub serves HTTPS and WSS with a certificate; the CLI verifies it and trusts a given CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { runCli, spawnHub } from '../support/process.js';
import { testStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

describe('TLS', () => {
  it('serves HTTPS and WSS; the CLI needs the CA to trust a self-signed certificate', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    // The development certificate recipe of docs/security.md.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const store = testStore(t, join(dir, '.swarm'));
    const hub = await spawnHub(store.dir, { store, cwd: dir, args: ['--tls-cert', cert, '--tls-key', key] });
    t.after(() => hub.kill());
    assert.match(hub.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const untrusted = await runCli(['agents'], { cwd: dir, env: { SWARM_HUB: hub.url } });
    assert.equal(untrusted.code, 8, untrusted.stderr);
    assert.match(untrusted.stderr, /^swarm: hub_unreachable: cannot verify the hub's TLS certificate .*--ca/);

    const trusted = await runCli(['--ca', cert, 'agents', 'add', 'Agent-1', '-q'], { cwd: dir, env: { SWARM_HUB: hub.url } });
    assert.equal(trusted.code, 0, trusted.stderr);
    const token = trusted.stdout.trim();

    const stream = new HubStream({ baseUrl: hub.url, token, ca: readFileSync(cert) });
    await stream.connect();
    t.after(() => stream.close());
    const sent = await runCli(['send', 'Agent-1', 'over TLS', '-q'], { cwd: dir, env: { SWARM_HUB: hub.url, SWARM_CA: cert } });
    assert.equal(sent.code, 0, sent.stderr);
    for await (const ev of stream) {
      if (ev.type !== 'delivery') continue;
      assert.equal(ev.message.body, 'over TLS');
      assert.equal(ev.message.id, sent.stdout.trim());
      break;
    }
    const plain = await fetch(hub.url.replace('https:', 'http:') + '/healthz').then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(plain, 200, 'no plain HTTP on the TLS port');
  });
});
