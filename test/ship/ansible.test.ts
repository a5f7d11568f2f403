// deploy/ansible run for real (issue 16): the playbook passes ansible-lint's production profile, then
// installs PostgreSQL and the hub's three services on a Debian host with systemd (a podman
// container from the base image), from the release tarball scripts/release.mjs makes of this
// checkout, with the secrets in an Ansible vault. The services run, /healthz answers over TLS
// inside the host, the installed CLI sends a message (stored encrypted), a second run changes
// nothing, and a run without the encryption key fails before anything changes.
//
// Installs Debian's ansible and ansible-lint when missing (as root); fails saying why otherwise.
// SWARM_ANSIBLE_CONNECTION=podman uses the containers.podman.podman connection instead of SSH
// (the same playbook, about four times slower here: every task costs several `podman exec`s).
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { containers, must, nodeArchive, makeRelease, playbook, recapOf, run, startHost, vaultString, type Connection, type Host } from '../support/ansible-host.js';
import { requireCommand } from '../support/debian.js';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

const ANSIBLE_DIR = join(ROOT, 'deploy', 'ansible');
const SERVICES = ['swarm-api', 'swarm-config', 'swarm-worker'];
const PORTS = [8080, 8081, 8082];
const connection = (process.env.SWARM_ANSIBLE_CONNECTION ?? 'ssh') as Connection;

function log(message: string): void {
  process.stderr.write(`swarm: ansible test: ${message}\n`);
}

/** Each `changed:` line of a run's output, after the TASK it belongs to. */
function changedTasks(output: string): string[] {
  let task = '';
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('TASK [') || line.startsWith('RUNNING HANDLER [')) task = line.replace(/\s*\*+$/, '');
    else if (line.startsWith('changed:')) out.push(`${task}: ${line}`);
  }
  return out;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

describe('deploy/ansible', () => {
  before(async () => {
    assert.ok(connection === 'ssh' || connection === 'podman', `SWARM_ANSIBLE_CONNECTION must be ssh or podman, not ${connection}`);
    await requireCommand('ansible-playbook', 'ansible', 'the Ansible test');
    await requireCommand('ansible-lint', 'ansible-lint', 'the Ansible test');
    await requireCommand('openssl', 'openssl', 'the Ansible test');
    await requireCommand('ssh-keygen', 'openssh-client', 'the Ansible test');
  });

  it('passes ansible-lint (production profile, offline)', () => {
    const r = run('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', 'site.yml', 'roles/postgresql', 'roles/swarm', 'inventory.example.yml'], { cwd: ANSIBLE_DIR, timeoutMs: 5 * 60_000 });
    assert.equal(r.code, 0, `ansible-lint failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /Passed with production profile/);
  });

  it('installs Swarm on a systemd host, idempotently, and refuses a missing key without changing anything', async (t) => {
    const started = Date.now();
    const dir = tempDir('swarm-ansible-');
    const release = makeRelease(join(dir, 'release'));
    const node = nodeArchive(containers.NODE_VERSION);
    log(`release ${release} and Node.js ${containers.NODE_VERSION} ready in ${seconds(Date.now() - started)}`);

    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'swarm-ansible-test', '-f', join(dir, 'id_ed25519')]);
    must('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'hub.key'), '-out', join(dir, 'hub.crt'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);

    const hostStarted = Date.now();
    const host: Host = startHost(`swarm-ansible-${process.pid}`, connection, readFileSync(join(dir, 'id_ed25519.pub'), 'utf8'), join(dir, 'id_ed25519'));
    t.after(() => host.remove());
    log(`host ${host.name} up (${connection}) in ${seconds(Date.now() - hostStarted)}`);

    // The secrets in a vault, as an operator keeps them; the test's vault password in a file.
    const vaultPass = join(dir, 'vault-pass');
    writeFileSync(vaultPass, 'swarm-ansible-test\n', { mode: 0o600 });
    const key = must('openssl', ['rand', '-base64', '32']).trim();
    const secrets = {
      swarm_encryption_key: key,
      swarm_db_password: must('openssl', ['rand', '-base64', '24']).trim(),
      swarm_tls_key: readFileSync(join(dir, 'hub.key'), 'utf8'),
    };
    const inventoryDir = (name: string, vaulted: Record<string, string>): string => {
      const d = join(dir, name);
      mkdirSync(join(d, 'group_vars', 'all'), { recursive: true });
      const vars: Record<string, string | number> = {
        ...host.inventoryVars,
        swarm_release_archive: release,
        swarm_node_archive: node,
        swarm_node_version: containers.NODE_VERSION,
        swarm_tls_cert: readFileSync(join(dir, 'hub.crt'), 'utf8'),
        swarm_tls_ca: readFileSync(join(dir, 'hub.crt'), 'utf8'),
      };
      const inventory = { all: { children: { swarm_db: { hosts: { [host.name]: null } }, swarm_hub: { hosts: { [host.name]: null } } }, vars } };
      writeFileSync(join(d, 'inventory.yml'), JSON.stringify(inventory, null, 2)); // JSON is YAML
      const entries = Object.entries(vaulted).map(([k, v]) => vaultString(k, v, vaultPass));
      writeFileSync(join(d, 'group_vars', 'all', 'vault.yml'), `---\n${entries.join('\n')}\n`);
      return join(d, 'inventory.yml');
    };
    const good = inventoryDir('good', secrets);

    const first = playbook(good, vaultPass);
    log(`first run: ${seconds(first.ms)}`);
    assert.equal(first.code, 0, `the first run failed:\n${first.stdout.slice(-6000)}\n${first.stderr.slice(-2000)}`);
    const firstRecap = recapOf(first.stdout, host.name);
    assert.ok(firstRecap !== null && firstRecap.failed === 0 && firstRecap.changed > 10, `first run's recap: ${JSON.stringify(firstRecap)}`);
    const migrated = changedTasks(first.stdout).findIndex((l) => l.startsWith('RUNNING HANDLER [swarm : Migrate the database with the new release]'));
    const restarted = changedTasks(first.stdout).findIndex((l) => l.startsWith('RUNNING HANDLER [swarm : Restart Swarm]'));
    assert.ok(migrated !== -1 && migrated < restarted, `the release's migrations ran before the services started:\n${changedTasks(first.stdout).join('\n')}`);

    // The three services run as the swarm user, with the hardening the units ask for.
    const active = host.exec(['systemctl', 'is-active', ...SERVICES]);
    assert.deepEqual(active.stdout.trim().split('\n'), ['active', 'active', 'active'], `systemctl is-active: ${active.stdout}${active.stderr}`);
    for (const service of SERVICES) {
      const pid = host.exec(['systemctl', 'show', '--property', 'MainPID', '--value', service]).stdout.trim();
      assert.equal(host.exec(['stat', '-c', '%U', `/proc/${pid}`]).stdout.trim(), 'swarm', `${service} (pid ${pid}) runs as swarm`);
      const props = host.exec(['systemctl', 'show', '--property', 'NoNewPrivileges,ProtectSystem,KillSignal,TimeoutStopUSec,Restart', service]).stdout;
      for (const want of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'KillSignal=15', 'TimeoutStopUSec=15s', 'Restart=on-failure']) assert.ok(props.includes(want), `${service}: ${want} in\n${props}`);
    }
    assert.equal(host.exec(['stat', '-c', '%a %U', '/etc/swarm/swarm.env']).stdout.trim(), '600 root');

    // /healthz inside the host, over TLS verified against the CA the playbook installed.
    const probe = [
      'import ssl, urllib.request',
      "ctx = ssl.create_default_context(cafile='/etc/swarm/tls/ca.crt')",
      `for port in ${JSON.stringify(PORTS)}:`,
      "    r = urllib.request.urlopen(f'https://127.0.0.1:{port}/healthz', context=ctx, timeout=5)",
      "    print(port, r.status, r.read().decode()[:80])",
    ].join('\n');
    const health = host.exec(['python3', '-c', probe]);
    assert.equal(health.code, 0, `/healthz over TLS: ${health.stdout}${health.stderr}`);
    for (const port of PORTS) assert.match(health.stdout, new RegExp(`^${port} 200 `, 'm'), `/healthz on ${port}: ${health.stdout}`);

    // The installed CLI, with the admin token the api wrote: two agents, a message between them.
    const addAgent = (id: string): string => {
      const r = host.exec(['swarm', 'agents', 'add', id, '--json']);
      assert.equal(r.code, 0, `swarm agents add ${id}: ${r.stdout}${r.stderr}`);
      return (JSON.parse(r.stdout) as { token: string }).token;
    };
    const a1 = addAgent('Agent-1');
    const a2 = addAgent('Agent-2');
    const text = `deployed by ansible ${process.pid}`;
    const sent = host.exec(['swarm', 'send', 'Agent-2', text, '--json'], { SWARM_TOKEN: a1 });
    assert.equal(sent.code, 0, `swarm send: ${sent.stdout}${sent.stderr}`);
    const inbox = host.exec(['swarm', 'inbox', '--json'], { SWARM_TOKEN: a2 });
    assert.equal(inbox.code, 0, `swarm inbox: ${inbox.stdout}${inbox.stderr}`);
    assert.deepEqual((JSON.parse(inbox.stdout) as { items: { message: { body: string } }[] }).items.map((i) => i.message.body), [text]);
    // Stored encrypted with the vault's key: the body is not in PostgreSQL in the clear.
    const stored = host.exec(['runuser', '-u', 'postgres', '--', 'psql', '-d', 'swarm', '-Atc', 'SELECT body FROM messages']);
    assert.equal(stored.code, 0, stored.stderr);
    assert.ok(stored.stdout.trim() !== '' && !stored.stdout.includes(text), `the body is stored sealed, not as ${JSON.stringify(stored.stdout)}`);

    const second = playbook(good, vaultPass);
    log(`second run: ${seconds(second.ms)}`);
    assert.equal(second.code, 0, `the second run failed:\n${second.stdout.slice(-6000)}`);
    assert.deepEqual(recapOf(second.stdout, host.name)?.changed, 0, `the second run changed something:\n${changedTasks(second.stdout).join('\n')}`);

    // Without the encryption key: refused in the validation play, before any task on the host.
    const envSum = (): string => host.exec(['sha256sum', '/etc/swarm/swarm.env']).stdout;
    const pids = (): string => host.exec(['systemctl', 'show', '--property', 'MainPID', ...SERVICES]).stdout;
    const [sumBefore, pidsBefore] = [envSum(), pids()];
    const { swarm_encryption_key: _omitted, ...withoutKey } = secrets;
    const bad = playbook(inventoryDir('no-key', withoutKey), vaultPass);
    log(`run without the key: ${seconds(bad.ms)}`);
    assert.notEqual(bad.code, 0, 'a run without swarm_encryption_key must fail');
    assert.match(bad.stdout, /swarm_encryption_key is missing or malformed: it must be 32 bytes as base64/);
    assert.deepEqual(recapOf(bad.stdout, host.name), { ok: 1, changed: 0, unreachable: 0, failed: 1, skipped: 0 }, bad.stdout.slice(-3000));
    assert.doesNotMatch(bad.stdout, /PLAY \[PostgreSQL for Swarm\]/, 'no play after the validation ran');
    assert.equal(envSum(), sumBefore, 'swarm.env unchanged');
    assert.equal(pids(), pidsBefore, 'no service restarted');
    assert.equal(host.exec(['systemctl', 'is-active', ...SERVICES]).stdout.trim(), 'active\nactive\nactive');

    // systemd's stop is the hub's SIGTERM: it drains and exits 0 before TimeoutStopSec.
    const stop = host.exec(['systemctl', 'stop', 'swarm-api']);
    assert.equal(stop.code, 0, stop.stderr);
    const ended = Object.fromEntries(host.exec(['systemctl', 'show', '--property', 'Result,ExecMainCode,ExecMainStatus', 'swarm-api']).stdout.trim().split('\n').map((l) => l.split('=')));
    assert.deepEqual(ended, { Result: 'success', ExecMainCode: '1', ExecMainStatus: '0' }, 'exited (CLD_EXITED) with status 0');
    log(`done in ${seconds(Date.now() - started)} (${connection})`);
  });
});
