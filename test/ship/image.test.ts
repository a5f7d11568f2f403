// The container image (Dockerfile), built here with podman and run for real: /healthz through a
// published port, the CLI inside the container, SIGTERM through tini, a non-root user, a read-only
// root filesystem with the data on a volume, and a bad setting refused at start.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { freePort } from '../support/net.js';
import { images, podman, podmanOk, removeAll, uniqueName } from '../support/podman.js';
import { within } from '../support/within.js';

/** The image, or null after a loud skip. */
async function swarmImage(t: TestContext): Promise<string | null> {
  const made = await images(t, ['swarm']);
  return made === null ? null : made[0]!;
}

interface Hub {
  name: string;
  url: string;
  /** `swarm ARGS…` inside the container, as its user, with `env` (-e). */
  cli(args: string[], env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts a container from `image` with `extra` podman options, port 8080 published; waits for /healthz. */
async function startHub(t: TestContext, image: string, extra: string[] = [], args: string[] = []): Promise<Hub> {
  const name = uniqueName('swarm-image');
  const port = await freePort();
  t.after(() => removeAll({ containers: [name] }));
  await podmanOk(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, ...extra, image, ...args]);
  const url = `http://127.0.0.1:${port}`;
  await within(
    30_000,
    async () => {
      try {
        return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch {
        return false;
      }
    },
    `${name}: /healthz through the published port 127.0.0.1:${port}`,
  );
  return {
    name,
    url,
    cli: (cliArgs, env = {}) => podman(['exec', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), name, 'swarm', ...cliArgs]),
  };
}

async function cliOk(hub: Hub, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await hub.cli(args, env);
  assert.equal(r.code, 0, `swarm ${args.join(' ')} in ${hub.name}: exit ${r.code}, stderr ${r.stderr}`);
  return r.stdout.trim();
}

describe('the swarm container image', () => {
  it('builds: production dependencies and dist/src only, tini, user node, health check, labels', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const cfg = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', image])) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      ExposedPorts: Record<string, unknown>;
      Volumes: Record<string, unknown>;
      Labels: Record<string, string>;
    };
    const health = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .HealthCheck}}', image])) as { Test: string[] } | null;
    assert.equal(cfg.User, 'node');
    assert.deepEqual(cfg.Entrypoint, ['/usr/bin/tini', '--', 'swarm']);
    assert.deepEqual(cfg.Cmd, ['serve']);
    assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['8080/tcp', '8081/tcp', '8082/tcp']);
    assert.deepEqual(Object.keys(cfg.Volumes), ['/data']);
    assert.deepEqual(health?.Test, ['CMD', 'node', '/app/deploy/image/healthcheck.cjs']);
    assert.equal(cfg.Labels['org.opencontainers.image.title'], 'swarm');
    assert.match(cfg.Labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}(-dirty)?$/);
    const size = Number(await podmanOk(['image', 'inspect', '--format', '{{.Size}}', image]));
    process.stderr.write(`swarm: ${image}: ${(size / 1e6).toFixed(0)} MB\n`);
    // What the image must not hold: tests, benchmarks, sources, the compiler and other dev tools.
    const absent = ['/app/dist/test', '/app/dist/bench', '/app/src', '/app/test', '/app/node_modules/typescript', '/app/node_modules/esbuild', '/app/node_modules/eslint', '/app/node_modules/fast-check', '/app/node_modules/better-sqlite3/deps'];
    const present = await podmanOk(['run', '--rm', '--entrypoint', 'sh', image, '-c', `for f in ${absent.join(' ')}; do [ -e "$f" ] && echo "$f"; done; true`]);
    assert.equal(present, '', 'nothing of these in the image');
    assert.equal(await podmanOk(['run', '--rm', image, '--version']), JSON.parse(await podmanOk(['run', '--rm', '--entrypoint', 'cat', image, '/app/package.json'])).version);
  });

  it('serves /healthz through a published port, passes its own health check, and runs as uid 1000 under tini', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const hub = await startHub(t, image);
    assert.deepEqual(await (await fetch(`${hub.url}/healthz`)).json(), { status: 'ok' });
    // The image's HEALTHCHECK, run by podman as the runtime would.
    const health = await podman(['healthcheck', 'run', hub.name]);
    assert.equal(health.code, 0, `podman healthcheck run: ${health.stdout}${health.stderr}`);
    // PID 1 is tini, the hub its child; both as node (uid 1000), none as root.
    const status1 = await podmanOk(['exec', hub.name, 'cat', '/proc/1/status', '/proc/1/cmdline']);
    assert.match(status1, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(status1, /tini/);
    const top = (await podmanOk(['top', hub.name, 'user', 'args'])).split('\n').slice(1);
    assert.ok(top.some((l) => /^node\s+node \/usr\/local\/bin\/swarm serve/.test(l)), `the hub process: ${top.join(' | ')}`);
    assert.ok(top.every((l) => l.startsWith('node ')), `every process as node: ${top.join(' | ')}`);
  });

  it('the CLI in the container onboards agents and sends a message the recipient reads, there and through the port', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const hub = await startHub(t, image);
    // The admin token the hub wrote to /data/admin.token is the CLI's there (SWARM_DATA=/data).
    const captain = await cliOk(hub, ['agents', 'add', 'Agent-4', '--role', 'captain', '-q']);
    const a1 = await cliOk(hub, ['onboard', 'Agent-1', '--specialty', 'Integration', '-q'], { SWARM_TOKEN: captain });
    const a2 = await cliOk(hub, ['onboard', 'Agent-2', '-q'], { SWARM_TOKEN: captain });
    const id = await cliOk(hub, ['send', 'Agent-2', 'the image works', '--subject', 'container', '-q'], { SWARM_TOKEN: a1 });
    assert.match(id, /^[0-9A-Z]{26}$/);
    const inbox = JSON.parse(await cliOk(hub, ['inbox', '--json'], { SWARM_TOKEN: a2 })) as { items: { message: { id: string; body: string; from: string } }[] };
    const got = inbox.items.find((i) => i.message.id === id);
    assert.equal(got?.message.body, 'the image works');
    // The same message through the published port, as a client outside the container sees it.
    const r = await fetch(`${hub.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${a2}` } });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { message: { body: string } }).message.body, 'the image works');
    // And not by someone else: the sender's captain cannot read Agent-2's inbox as Agent-1.
    const refused = await hub.cli(['--as', 'Agent-2', 'inbox'], { SWARM_TOKEN: a1 });
    assert.equal(refused.code, 6, refused.stderr);
  });

  it('SIGTERM drains (readyz 503), closes streams and exits 0 within the grace period', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const drain = 2;
    const grace = 10;
    const hub = await startHub(t, image, ['-e', `SWARM_DRAIN_SECONDS=${drain}`, '-e', `SWARM_GRACE_SECONDS=${grace}`]);
    const token = await cliOk(hub, ['agents', 'add', 'Agent-1', '-q']);
    const stream = new HubStream({ baseUrl: hub.url, token, reconnect: false });
    await stream.connect();
    t.after(() => stream.close());
    let streamEnded = 0;
    void (async () => {
      try {
        for await (const ev of stream) void ev;
      } catch {
        // ended by the hub: what is measured is when
      }
      streamEnded = performance.now();
    })();

    const started = performance.now();
    await podmanOk(['kill', '--signal', 'TERM', hub.name]);
    // While it drains, the hub still answers, but not ready: a balancer takes it out. Polled: the
    // signal travels podman, tini and the hub's event loop, racing the first request.
    const unready = await within(
      (drain * 1000) / 2,
      async () => (await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 503,
      'draining: /readyz 503 while the hub still answers',
    );
    process.stderr.write(`swarm: /readyz 503 ${unready.toFixed(0)} ms after podman kill returned\n`);
    const code = await podmanOk(['wait', hub.name], { timeoutMs: (grace + 20) * 1000 });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`swarm: SIGTERM to exit: ${seconds.toFixed(2)} s (drain ${drain} s, grace ${grace} s)\n`);
    assert.equal(code, '0', 'exit code 0');
    assert.ok(seconds >= drain - 0.2, `exited after the drain: ${seconds.toFixed(2)} s`);
    assert.ok(seconds < grace, `exited within the grace period: ${seconds.toFixed(2)} s`);
    await within(2000, async () => streamEnded > 0, 'the stream ended by the hub');
    const logs = await podman(['logs', hub.name]);
    assert.match(logs.stdout + logs.stderr, /hub stopped/);
  });

  it('runs with a read-only root filesystem; its data lives on a volume that outlives the container', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const volume = uniqueName('swarm-image-data');
    await podmanOk(['volume', 'create', volume]);
    t.after(() => removeAll({ volumes: [volume] }));
    // --read-only-tmpfs=false: not even /tmp, /var/tmp or /run writable.
    const readOnly = ['--read-only', '--read-only-tmpfs=false', '-v', `${volume}:/data`];
    const first = await startHub(t, image, readOnly);
    await cliOk(first, ['agents', 'add', 'Agent-7', '--specialty', 'persistence']);
    const write = await podman(['exec', first.name, 'sh', '-c', 'touch /app/x || touch /tmp/x || touch /home/node/x']);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.equal(await podmanOk(['stop', '-t', '20', first.name]), first.name);
    assert.equal(await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', first.name]), '0');

    const second = await startHub(t, image, readOnly);
    const agents = JSON.parse(await cliOk(second, ['agents', '--json'])) as { agents: { id: string; specialty: string }[] };
    assert.equal(agents.agents.find((a) => a.id === 'Agent-7')?.specialty, 'persistence', 'the agent from the first container');
  });

  it('started with --role api and no database, exits 9 with one line on stderr', { timeout: 20 * 60_000 }, async (t) => {
    const image = await swarmImage(t);
    if (image === null) return;
    const name = uniqueName('swarm-image-bad');
    t.after(() => removeAll({ containers: [name] }));
    await podmanOk(['run', '-d', '--name', name, image, 'serve', '--role', 'api']);
    assert.equal(await podmanOk(['wait', name], { timeoutMs: 30_000 }), '9');
    const logs = await podman(['logs', name]);
    assert.equal(logs.stdout, '', 'nothing on stdout');
    const lines = logs.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${logs.stderr}`);
    assert.match(lines[0]!, /^swarm: config_invalid: --role api runs as one of several processes sharing a database: give --database postgres:/);
  });
});
