// TLS: the hub serves HTTPS and WSS with a certificate; the CLI verifies it and trusts a given CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { NODE_26, requireNodeRelease } from '../support/node-release.js';
import { runCli, spawnHub } from '../support/process.js';
import { testStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';

/** A self-signed certificate for localhost and 127.0.0.1: the development recipe of docs/security.md. */
function devCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

describe('TLS', () => {
  it('serves HTTPS and WSS; the CLI needs the CA to trust a self-signed certificate', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const { cert, key } = devCertificate(dir);
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
  // Issue 12: the client handed an undici@6 Agent to Node's built-in fetch, whose bundled undici
  // (another major version on Node 26) refuses it: every command with --ca failed with
  // hub_unreachable (UND_ERR_INVALID_ARG). The CLI runs here under Node 26 from the npm registry,
  // the hub under the Node that runs the tests.
  it(`the CLI under Node ${NODE_26} talks HTTPS and WSS with --ca to a hub on Node ${process.versions.node}`, { timeout: 420_000 }, async (t) => {
    const node26 = requireNodeRelease(NODE_26);
    const dir = tempDir();
    const { cert, key } = devCertificate(dir);
    const store = testStore(t, join(dir, '.swarm'));
    const hub = await spawnHub(store.dir, { store, cwd: dir, args: ['--tls-cert', cert, '--tls-key', key] });
    t.after(() => hub.kill());
    const cli = (args: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> => runCli(args, { cwd: dir, node: node26, env: { SWARM_HUB: hub.url, ...env } });

    const untrusted = await cli(['agents']);
    assert.equal(untrusted.code, 8, untrusted.stderr);
    assert.match(untrusted.stderr, /^swarm: hub_unreachable: cannot verify the hub's TLS certificate .*--ca/);

    const added = await cli(['--ca', cert, 'agents', 'add', 'Agent-1', '-q']);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.trim();
    const sent = await cli(['send', 'Agent-1', 'from Node 26', '-q'], { SWARM_CA: cert });
    assert.equal(sent.code, 0, sent.stderr);
    const id = sent.stdout.trim();

    // The WebSocket stream (WSS), then HTTPS again with the agent's own token.
    const watched = await cli(['--ca', cert, '--token', token, 'watch', '--json', '--count', '1', '--for', '20']);
    assert.equal(watched.code, 0, watched.stderr);
    const delivery = JSON.parse(watched.stdout.trim().split('\n')[0] ?? '{}') as { message?: { id?: string; body?: string } };
    assert.equal(delivery.message?.id, id);
    assert.equal(delivery.message?.body, 'from Node 26');
    const inbox = await cli(['--ca', cert, '--token', token, 'inbox', '--all', '--json']);
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.ok(inbox.stdout.includes(id), inbox.stdout);
  });
});
