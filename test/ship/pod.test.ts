// Scale-out in containers: deploy/podman/pod.sh starts PostgreSQL, three api containers and a
// worker from the images made here in one podman pod, and a message sent through one api container
// reaches a stream subscriber on another live and is read through the third. The script is
// shellcheck-clean and refuses bad settings without creating anything.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { HubStream } from '../../src/client/stream.js';
import { requireCommand } from '../support/debian.js';
import { freePort } from '../support/net.js';
import { ROOT } from '../support/paths.js';
import { exec, images, podman, podmanOk, uniqueName } from '../support/podman.js';
import { within } from '../support/within.js';

const POD_SH = join(ROOT, 'deploy', 'podman', 'pod.sh');

interface Pod {
  name: string;
  apiUrls: string[];
  workerUrl: string;
  /** `swarm ARGS…` in container `container` of the pod, with SWARM_TOKEN=token when given. */
  cli(container: string, args: string[], token?: string): Promise<string>;
}

/** Runs pod.sh `args` for pod `env.SWARM_POD`. */
function podSh(args: string[], env: Record<string, string>, timeoutMs = 180_000): ReturnType<typeof exec> {
  return exec(POD_SH, args, { env, timeoutMs });
}

/** The pod's leftovers by name: containers, volumes, secrets. */
async function leftovers(name: string): Promise<string[]> {
  const containers = (await podmanOk(['ps', '-a', '--format', '{{.Names}}'])).split('\n');
  const volumes = (await podmanOk(['volume', 'ls', '--format', '{{.Name}}'])).split('\n');
  const secrets = (await podmanOk(['secret', 'ls', '--format', '{{.Name}}'])).split('\n');
  const pods = (await podmanOk(['pod', 'ps', '--format', '{{.Name}}'])).split('\n');
  return [...containers, ...volumes, ...secrets, ...pods].filter((n) => n.startsWith(name));
}

async function startPod(t: TestContext, swarmImage: string, postgresImage: string): Promise<Pod> {
  const name = uniqueName('swarm-pod');
  const apiPorts = [await freePort(), await freePort(), await freePort()];
  const workerPort = await freePort();
  const env = { SWARM_POD: name, SWARM_IMAGE: swarmImage, POSTGRES_IMAGE: postgresImage, SWARM_API_PORTS: apiPorts.join(' '), SWARM_WORKER_PORT: String(workerPort), SWARM_WAIT_SECONDS: '240' };
  // Also when the test fails: the pod, its volumes and its secrets go.
  t.after(() => podSh(['down', '--volumes'], env, 120_000));
  // Up is ~10 s alone; the full suite once ran it beside the Ansible test's systemd container and an
  // api container was not ready within 90 s: the wait is generous, and a refusal now carries the
  // container's last log lines.
  const up = await podSh(['up'], env, 600_000);
  process.stderr.write(`swarm: pod.sh up: ${(up.ms / 1000).toFixed(1)} s\n`);
  assert.equal(up.code, 0, `pod.sh up: ${up.stderr}`);
  assert.match(up.stdout, new RegExp(`pod ${name} is up`));
  return {
    name,
    apiUrls: apiPorts.map((p) => `http://127.0.0.1:${p}`),
    workerUrl: `http://127.0.0.1:${workerPort}`,
    cli: async (container, args, token) => {
      const r = await podman(['exec', ...(token === undefined ? [] : ['-e', `SWARM_TOKEN=${token}`]), `${name}-${container}`, 'swarm', ...args]);
      assert.equal(r.code, 0, `swarm ${args.join(' ')} in ${container}: exit ${r.code}: ${r.stderr}`);
      return r.stdout.trim();
    },
  };
}

describe('deploy/podman/pod.sh: the hub scaled out in a pod', () => {
  it('is shellcheck-clean', { timeout: 10 * 60_000 }, async () => {
    const shellcheck = await requireCommand('shellcheck', 'shellcheck', 'pod.sh lint');
    const r = await exec(shellcheck, [POD_SH, join(ROOT, 'test', 'ship', 'postgres-image', 'entrypoint.sh')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('refuses bad settings with one line on stderr, creating nothing', { timeout: 10 * 60_000 }, async (t) => {
    if ((await images(t, [])) === null) return;
    const name = uniqueName('swarm-pod-bad');
    t.after(() => podSh(['down', '--volumes'], { SWARM_POD: name }));
    for (const [args, env, message] of [
      [['up'], { SWARM_API_PORTS: '8080 80a' }, /^pod\.sh: SWARM_API_PORTS must be port numbers, not '80a'$/],
      [['up'], { SWARM_WORKER_PORT: 'x' }, /^pod\.sh: SWARM_WORKER_PORT must be a port number, not 'x'$/],
      [['frobnicate'], {}, /^pod\.sh: usage: deploy\/podman\/pod\.sh up \| status \| down \[--volumes\]$/],
      [['down', '--everything'], {}, /^pod\.sh: down takes only --volumes, not '--everything'$/],
    ] as const) {
      const r = await podSh([...args], { SWARM_POD: name, ...env });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0]!, message);
      assert.deepEqual(await leftovers(name), [], 'nothing created');
    }
  });

  it('three api containers, a worker and PostgreSQL: a message sent through one is received live through another and read through the third', { timeout: 30 * 60_000 }, async (t) => {
    const made = await images(t, ['swarm', 'postgres']);
    if (made === null) return;
    const [swarmImage, postgresImage] = made as [string, string];
    const pod = await startPod(t, swarmImage, postgresImage);
    const [, api2, api3] = pod.apiUrls as [string, string, string];

    // Every process up on the shared database; the worker answers on its own port.
    for (const url of [...pod.apiUrls, pod.workerUrl]) {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.status, 200, `${url}/readyz`);
      assert.equal(((await r.json()) as { store: string }).store, 'postgres');
    }

    // The admin token one api container wrote to the shared /data volume serves the CLI in all.
    const captain = await pod.cli('api-1', ['agents', 'add', 'Agent-4', '--role', 'captain', '-q']);
    const a1 = await pod.cli('api-2', ['onboard', 'Agent-1', '-q'], captain);
    const a2 = await pod.cli('api-3', ['onboard', 'Agent-2', '-q'], captain);

    // Agent-2 subscribes through api-2 (from the host, through the published port).
    const stream = new HubStream({ baseUrl: api2, token: a2, reconnect: false });
    await stream.connect();
    t.after(() => stream.close());
    const live = new Map<string, number>();
    void (async () => {
      for await (const ev of stream) {
        if (ev.type !== 'delivery') continue;
        live.set(ev.message.id, performance.now());
        await stream.ack([ev.message.id]).catch(() => undefined);
      }
    })().catch(() => undefined); // a stream that fails shows as a message that never arrives

    // Agent-1 sends through api-1, with the CLI inside that container.
    const sent = performance.now();
    const id = await pod.cli('api-1', ['send', 'Agent-2', 'across the pod', '--subject', 'scale-out', '-q'], a1);
    const answered = performance.now();
    assert.match(id, /^[0-9A-Z]{26}$/);
    await within(5000, async () => live.has(id), 'the message on the stream through api-2');
    // podman exec's own start and end are in the span: the event often arrives before it returns.
    process.stderr.write(`swarm: sent through api-1, on api-2's stream ${(live.get(id)! - sent).toFixed(0)} ms after \`podman exec … swarm send\` started (which took ${(answered - sent).toFixed(0)} ms)\n`);

    // Read through api-3: by the CLI in that container, and over HTTP through its port.
    const shown = JSON.parse(await pod.cli('api-3', ['read', id, '--json'], a2)) as { message: { id: string; body: string; from: string } };
    assert.equal(shown.message.body, 'across the pod');
    assert.equal(shown.message.from, 'Agent-1');
    const thread = await fetch(`${api3}/v1/messages/${id}`, { headers: { authorization: `Bearer ${a2}` } });
    assert.equal(thread.status, 200);
    // Acked on the stream through api-2: the inbox read through api-3 no longer lists it.
    await within(5000, async () => {
      const r = await fetch(`${api3}/v1/inbox`, { headers: { authorization: `Bearer ${a2}` } });
      const inbox = (await r.json()) as { items: { message: { id: string } }[] };
      return !inbox.items.some((i) => i.message.id === id);
    }, 'the ack through api-2 seen through api-3');

    // And one sent through api-3 by HTTP reaches the same stream.
    const r = await fetch(`${api3}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${a1}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: 'Agent-2', body: 'again' }) });
    assert.equal(r.status, 201);
    const second = ((await r.json()) as { message: { id: string } }).message.id;
    await within(5000, async () => live.has(second), 'a send through api-3 on the stream through api-2');

    // Closed before the pod goes: a WebSocket whose peer vanished waits 30 s for its close frame.
    stream.close();
    // Down, with its volumes: nothing of the pod is left.
    const down = await podSh(['down', '--volumes'], { SWARM_POD: pod.name }, 120_000);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await leftovers(pod.name), []);
  });
});
