// docs/sdk.md's examples, run as written: each ```js example block is a program in a temp
// directory where `swarm-hub` is installed (node_modules/swarm-hub links to this checkout), run by
// a separate Node against a real hub, in the order of the page. The hub's state is checked after each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Swarm } from 'swarm-hub';
import { ROOT } from '../support/paths.js';
import { cleanEnv, type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

const examples = [...readFileSync(join(ROOT, 'docs', 'sdk.md'), 'utf8').matchAll(/```js example\n([\s\S]*?)```/g)].map((m) => m[1] as string);

describe('docs/sdk.md examples', () => {
  let hub: HubProcess;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let two: Swarm;
  before(async () => {
    hub = await spawnHub(tempDir('swarm-sdk-docs-'));
    const admin = new Swarm({ baseUrl: hub.url, token: hub.adminToken });
    const t1 = (await admin.register({ id: 'Agent-1' })).token;
    const t2 = (await admin.register({ id: 'Agent-2' })).token;
    two = new Swarm({ baseUrl: hub.url, token: t2 });
    env = cleanEnv({ SWARM_HUB: hub.url, SWARM_TOKEN: t1, SWARM_TOKEN_2: t2 });
    dir = tempDir('swarm-sdk-user-');
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'swarm-hub'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  });
  after(async () => {
    await hub?.stop();
  });

  function run(i: number): string {
    const file = join(dir, `example-${i + 1}.js`);
    writeFileSync(file, examples[i] ?? '');
    const r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `example ${i + 1} exited with ${r.status}:\n${r.stderr}`);
    return r.stdout;
  }

  it('has the four examples the page describes', () => {
    assert.equal(examples.length, 4);
  });

  it('1. connect and send: the message is in Agent-2\'s inbox', async () => {
    assert.match(run(0), /^Agent-1 sent \S+ to Agent-2\n$/);
    const items = (await two.inbox()).items;
    assert.equal(items.length, 1);
    assert.equal(items[0]?.message.body, 'Please review PR 42');
  });

  it('2. inbox and ack: the inbox is empty after', async () => {
    assert.equal(run(1), '[high] Agent-1: Build\nacked 1\n');
    assert.equal((await two.inbox()).items.length, 0);
  });

  it('3. stream and resume: the delivery is printed and acknowledged', async () => {
    const sent = await new Swarm({ baseUrl: hub.url, token: env.SWARM_TOKEN }).send({ to: 'Agent-2', body: 'streamed' });
    assert.match(run(2), /^event \d+: streamed\nresumed after event \d+\n$/);
    assert.equal((await two.inbox({ all: true })).items.find((i) => i.message.id === sent.message.id)?.delivery.state, 'acked');
  });

  it('4. errors: the code is unknown_recipient, and nothing was sent', async () => {
    assert.match(run(3), /^unknown_recipient: /);
    assert.equal((await two.inbox()).items.length, 0);
  });
});
