// deploy/ansible run for real (issue 16): the playbook passes ansible-lint's production profile, then
// installs PostgreSQL and the hub's three services on a Debian host with systemd (a podman
// container from the base image), from the release tarball scripts/release.mjs makes of this
// checkout, with the secrets in an Ansible vault. The services run, /healthz answers over TLS
// inside the host, the installed CLI sends a message (stored encrypted), a second run changes
// nothing, and a run without the encryption key fails before anything changes.
//
// Installs Debian's ansible and ansible-lint when missing (as root). The playbook run is skipped
// with a notice where podman cannot run (not root), as the other container tests are.
// SWARM_ANSIBLE_CONNECTION=podman uses the containers.podman.podman connection instead of SSH (the
// same playbook, slower: every task costs several `podman exec`s).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { changedTasks, makeRelease, NODE_VERSION, nodeArchive, ok, playbook, recapOf, startHost, vaultString, type Connection } from '../support/ansible-host.js';
import { requireCommand, requirePath } from '../support/debian.js';
import { ROOT } from '../support/paths.js';
import { exec, images, uniqueName } from '../support/podman.js';
import { tempDir } from '../support/temp.js';

const ANSIBLE_DIR = join(ROOT, 'deploy', 'ansible');
const SERVICES = ['swarm-api', 'swarm-config', 'swarm-worker'];
const PORTS = [8080, 8081, 8082];
const connection = (process.env.SWARM_ANSIBLE_CONNECTION ?? 'ssh') as Connection;

function log(message: string): void {
  process.stderr.write(`swarm: ansible test: ${message}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** /healthz of each port inside the host, over TLS verified against the CA the play installed. */
const HEALTH_PROBE = [
  'import ssl, urllib.request',
  "ctx = ssl.create_default_context(cafile='/etc/swarm/tls/ca.crt')",
  `for port in ${JSON.stringify(PORTS)}:`,
  "    r = urllib.request.urlopen(f'https://127.0.0.1:{port}/healthz', context=ctx, timeout=5)",
  '    print(port, r.status, r.read().decode()[:80])',
].join('\n');

/**
 * The roles use community.postgresql, shipped by Debian's `ansible` (the collections), not by
 * `ansible-core`, which alone provides `ansible-playbook` once ansible-lint has pulled it in.
 */
const COLLECTIONS = '/usr/lib/python3/dist-packages/ansible_collections/community/postgresql';

describe('deploy/ansible', () => {
  it('passes ansible-lint (production profile, offline)', async () => {
    await requireCommand('ansible-lint', 'ansible-lint', 'the Ansible test');
    await requirePath(COLLECTIONS, 'ansible', 'the Ansible test');
    const r = await exec('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', 'site.yml', 'roles/postgresql', 'roles/swarm', 'inventory.example.yml'], { cwd: ANSIBLE_DIR, timeoutMs: 5 * 60_000 });
    assert.equal(r.code, 0, `ansible-lint failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /Passed with production profile/);
  });

  it('installs Swarm on a systemd host, idempotently, and refuses a missing key without changing anything', { timeout: 30 * 60_000 }, async (t) => {
    assert.ok(connection === 'ssh' || connection === 'podman', `SWARM_ANSIBLE_CONNECTION must be ssh or podman, not ${connection}`);
    const image = (await images(t, ['systemd']))?.[0];
    if (image === undefined) return; // skipped, loudly, by images()
    for (const [command, pkg] of [['ansible-playbook', 'ansible'], ['openssl', 'openssl'], ['ssh-keygen', 'openssh-client']]) await requireCommand(command!, pkg!, 'the Ansible test');
    await requirePath(COLLECTIONS, 'ansible', 'the Ansible test');
    const started = Date.now();
    const dir = tempDir('swarm-ansible-');
    const release = await makeRelease(join(dir, 'release'));
    const node = await nodeArchive(NODE_VERSION);
    log(`release ${release} and Node.js ${NODE_VERSION} ready in ${seconds(Date.now() - started)}`);

    await ok('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'swarm-ansible-test', '-f', join(dir, 'id_ed25519')]);
    await ok('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'hub.key'), '-out', join(dir, 'hub.crt'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);

    const hostStarted = Date.now();
    const host = await startHost(image, uniqueName('swarm-ansible'), connection, readFileSync(join(dir, 'id_ed25519.pub'), 'utf8'), join(dir, 'id_ed25519'));
    t.after(() => host.remove());
    log(`host ${host.name} up (${connection}) in ${seconds(Date.now() - hostStarted)}`);
    const sh = async (args: string[], env?: Record<string, string>): Promise<string> => {
      const r = await host.exec(args, env);
      assert.equal(r.code, 0, `${args.join(' ')} in the host: ${r.stdout}${r.stderr}`);
      return r.stdout.trim();
    };

    // The secrets in a vault, as an operator keeps them; the test's vault password in a file.
    const vaultPass = join(dir, 'vault-pass');
    writeFileSync(vaultPass, 'swarm-ansible-test\n', { mode: 0o600 });
    const secrets = {
      swarm_encryption_key: (await ok('openssl', ['rand', '-base64', '32'])).trim(),
      swarm_db_password: (await ok('openssl', ['rand', '-base64', '24'])).trim(),
      swarm_tls_key: readFileSync(join(dir, 'hub.key'), 'utf8'),
    };
    const inventoryDir = async (name: string, vaulted: Record<string, string>): Promise<string> => {
      const d = join(dir, name);
      mkdirSync(join(d, 'group_vars', 'all'), { recursive: true });
      const cert = readFileSync(join(dir, 'hub.crt'), 'utf8');
      const vars = { ...host.inventoryVars, swarm_release_archive: release, swarm_node_archive: node, swarm_node_version: NODE_VERSION, swarm_tls_cert: cert, swarm_tls_ca: cert };
      const inventory = { all: { children: { swarm_db: { hosts: { [host.name]: null } }, swarm_hub: { hosts: { [host.name]: null } } }, vars } };
      writeFileSync(join(d, 'inventory.yml'), JSON.stringify(inventory, null, 2)); // JSON is YAML
      const entries = await Promise.all(Object.entries(vaulted).map(([k, v]) => vaultString(k, v, vaultPass)));
      writeFileSync(join(d, 'group_vars', 'all', 'vault.yml'), `---\n${entries.join('\n')}\n`);
      return join(d, 'inventory.yml');
    };
    const good = await inventoryDir('good', secrets);

    const first = await playbook(good, vaultPass);
    log(`first run: ${seconds(first.ms)}`);
    assert.equal(first.code, 0, `the first run failed:\n${first.stdout.slice(-6000)}\n${first.stderr.slice(-2000)}`);
    const firstRecap = recapOf(first.stdout, host.name);
    assert.ok(firstRecap !== null && firstRecap.failed === 0 && firstRecap.changed > 10, `first run's recap: ${JSON.stringify(firstRecap)}`);
    const firstChanges = changedTasks(first.stdout);
    const migrated = firstChanges.findIndex((l) => l.startsWith('RUNNING HANDLER [swarm : Migrate the database with the new release]'));
    const restarted = firstChanges.findIndex((l) => l.startsWith('RUNNING HANDLER [swarm : Restart Swarm]'));
    assert.ok(migrated !== -1 && migrated < restarted, `the release's migrations ran before the services started:\n${firstChanges.join('\n')}`);

    // The three services run as the swarm user, with the hardening the units ask for.
    assert.equal(await sh(['systemctl', 'is-active', ...SERVICES]), 'active\nactive\nactive');
    for (const service of SERVICES) {
      const pid = await sh(['systemctl', 'show', '--property', 'MainPID', '--value', service]);
      assert.equal(await sh(['stat', '-c', '%U', `/proc/${pid}`]), 'swarm', `${service} (pid ${pid}) runs as swarm`);
      const props = await sh(['systemctl', 'show', '--property', 'NoNewPrivileges,ProtectSystem,KillSignal,TimeoutStopUSec,Restart', service]);
      for (const want of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'KillSignal=15', 'TimeoutStopUSec=15s', 'Restart=on-failure']) assert.ok(props.includes(want), `${service}: ${want} in\n${props}`);
    }
    assert.equal(await sh(['stat', '-c', '%a %U', '/etc/swarm/swarm.env']), '600 root');

    const health = await sh(['python3', '-c', HEALTH_PROBE]);
    for (const port of PORTS) assert.match(health, new RegExp(`^${port} 200 `, 'm'), `/healthz on ${port} over TLS: ${health}`);

    // The installed CLI, with the admin token the api wrote: two agents, a message between them.
    const tokenOf = async (id: string): Promise<string> => (JSON.parse(await sh(['swarm', 'agents', 'add', id, '--json'])) as { token: string }).token;
    const [a1, a2] = [await tokenOf('Agent-1'), await tokenOf('Agent-2')];
    const text = `deployed by ansible ${process.pid}`;
    await sh(['swarm', 'send', 'Agent-2', text, '--json'], { SWARM_TOKEN: a1 });
    const inbox = JSON.parse(await sh(['swarm', 'inbox', '--json'], { SWARM_TOKEN: a2 })) as { items: { message: { body: string } }[] };
    assert.deepEqual(inbox.items.map((i) => i.message.body), [text]);
    // Stored encrypted with the vault's key: the body is not in PostgreSQL in the clear.
    const stored = await sh(['runuser', '-u', 'postgres', '--', 'psql', '-d', 'swarm', '-Atc', 'SELECT body FROM messages']);
    assert.ok(stored !== '' && !stored.includes(text), `the body is stored sealed, not as ${JSON.stringify(stored)}`);

    const second = await playbook(good, vaultPass);
    log(`second run: ${seconds(second.ms)}`);
    assert.equal(second.code, 0, `the second run failed:\n${second.stdout.slice(-6000)}`);
    assert.equal(recapOf(second.stdout, host.name)?.changed, 0, `the second run changed something:\n${changedTasks(second.stdout).join('\n')}`);

    // Without the encryption key: refused in the validation play, before any task on the host.
    const state = async (): Promise<string> => `${await sh(['sha256sum', '/etc/swarm/swarm.env'])}\n${await sh(['systemctl', 'show', '--property', 'MainPID', ...SERVICES])}`;
    const before = await state();
    const { swarm_encryption_key: _omitted, ...withoutKey } = secrets;
    const bad = await playbook(await inventoryDir('no-key', withoutKey), vaultPass);
    log(`run without the key: ${seconds(bad.ms)}`);
    assert.notEqual(bad.code, 0, 'a run without swarm_encryption_key must fail');
    assert.match(bad.stdout, /swarm_encryption_key is missing or malformed: it must be 32 bytes as base64/);
    assert.deepEqual(recapOf(bad.stdout, host.name), { ok: 1, changed: 0, unreachable: 0, failed: 1, skipped: 0 }, bad.stdout.slice(-3000));
    assert.doesNotMatch(bad.stdout, /PLAY \[PostgreSQL for Swarm\]/, 'no play after the validation ran');
    assert.equal(await state(), before, 'swarm.env and the service processes unchanged');
    assert.equal(await sh(['systemctl', 'is-active', ...SERVICES]), 'active\nactive\nactive');

    // systemd's stop is the hub's SIGTERM: it drains and exits 0 before TimeoutStopSec.
    await sh(['systemctl', 'stop', 'swarm-api']);
    const ended = Object.fromEntries((await sh(['systemctl', 'show', '--property', 'Result,ExecMainCode,ExecMainStatus', 'swarm-api'])).split('\n').map((l) => l.split('=')));
    assert.deepEqual(ended, { Result: 'success', ExecMainCode: '1', ExecMainStatus: '0' }, 'exited (CLD_EXITED) with status 0');
    log(`done in ${seconds(Date.now() - started)} (${connection})`);
  });
});
