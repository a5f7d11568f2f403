// The command deliverer with real processes: the delivery JSON on stdin, no shell, a small
// environment, exit statuses with stderr's tail, a timeout that kills the whole process group.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CommandTarget, Outcome } from '../../src/delivery/deliverer.js';
import { deliver } from '../../src/delivery/deliverer.js';
import { tempDir } from '../support/temp.js';
import { within } from '../support/within.js';
import { delivery } from './fixtures.js';

const node = (script: string, ...args: string[]): CommandTarget => ({ kind: 'command', argv: [process.execPath, '-e', script, ...args], timeoutMs: 5_000 });

function failure(o: Outcome): Extract<Outcome, { ok: false }> {
  assert.equal(o.ok, false, JSON.stringify(o));
  return o as Extract<Outcome, { ok: false }>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('command deliverer', () => {
  it('runs argv without a shell, the delivery JSON on stdin, with SWARM_DELIVERY_* and not the hub environment', async () => {
    const dir = tempDir();
    const out = join(dir, 'got.json');
    process.env.SWARM_TEST_HUB_SECRET = 'must-not-leak';
    try {
      const script = `const fs=require('node:fs');const input=fs.readFileSync(0,'utf8');fs.writeFileSync(process.argv[1],JSON.stringify({input,args:process.argv.slice(2),env:process.env}))`;
      const d = delivery({ body: 'body with $(touch pwned) and `touch pwned2`; rm -rf nothing' }, 'Agent-3', 2);
      const o = await deliver({ ...node(script, out, '$(touch pwned)', 'a b', '*'), timeoutMs: 5_000 }, d);
      assert.equal(o.ok, true, JSON.stringify(o));
      const got = JSON.parse(readFileSync(out, 'utf8')) as { input: string; args: string[]; env: Record<string, string> };
      assert.deepEqual(JSON.parse(got.input), { agent: 'Agent-3', attempt: 2, message: d.message });
      assert.deepEqual(got.args, ['$(touch pwned)', 'a b', '*']);
      assert.equal(got.env.SWARM_DELIVERY_AGENT, 'Agent-3');
      assert.equal(got.env.SWARM_DELIVERY_MESSAGE_ID, d.message.id);
      assert.equal(got.env.SWARM_DELIVERY_ATTEMPT, '2');
      assert.equal(got.env.SWARM_TEST_HUB_SECRET, undefined);
      assert.equal(got.env.PATH, process.env.PATH);
      assert.equal(existsSync(join(process.cwd(), 'pwned')), false);
    } finally {
      delete process.env.SWARM_TEST_HUB_SECRET;
    }
  });

  it('a non-zero exit is exit_status with the code and the last 200 characters of stderr', async () => {
    const o = failure(await deliver(node(`process.stderr.write('early-noise '.repeat(100) + 'the real reason at the end'); process.exit(3)`), delivery()));
    assert.equal(o.reason, 'exit_status');
    assert.equal(o.permanent, undefined);
    assert.match(o.error, /exited 3: .*the real reason at the end$/);
    assert.doesNotMatch(o.error, /^.*early-noise early-noise early-noise .{200,}/);
    assert.ok(o.error.length < 260, o.error);
  });

  it('a program killed by a signal is exit_status naming it', async () => {
    const o = failure(await deliver(node(`process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10000)`), delivery()));
    assert.equal(o.reason, 'exit_status');
    assert.match(o.error, /killed by SIGTERM/);
  });

  it('a timeout kills the whole process group, grandchildren too', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const script = `const {spawn}=require('node:child_process');const c=spawn(process.execPath,['-e','setTimeout(()=>{},60000)'],{stdio:'ignore'});require('node:fs').writeFileSync(process.argv[1],String(c.pid));setTimeout(()=>{},60000)`;
    const o = failure(await deliver({ ...node(script, pidFile), timeoutMs: 700 }, delivery()));
    assert.equal(o.reason, 'timeout');
    assert.ok(o.ms >= 690 && o.ms < 4_000, `${o.ms} ms`);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(grandchild > 0);
    await within(2_000, () => Promise.resolve(!alive(grandchild)), 'the grandchild is killed with the group');
  });

  it('a missing program or an empty argv is a permanent bad_target; so is a NUL in an argument', async () => {
    for (const argv of [['/no/such/program'], ['no-such-program-swarm-test'], [], [''], [process.execPath, 'a\0b']]) {
      const o = failure(await deliver({ kind: 'command', argv, timeoutMs: 2_000 }, delivery(), new AbortController().signal));
      assert.equal(o.reason, 'bad_target', `${JSON.stringify(argv)}: ${o.error}`);
      assert.equal(o.permanent, true);
    }
  });

  it('a program that ignores stdin and exits 0 is ok; one that leaves a child holding stderr is not waited for', async () => {
    assert.equal((await deliver({ kind: 'command', argv: ['/bin/true'], timeoutMs: 2_000 }, delivery({ body: 'x'.repeat(1_000_000) }))).ok, true);
    const o = await deliver({ kind: 'command', argv: ['/bin/sh', '-c', 'sleep 5 & exit 0'], timeoutMs: 3_000 }, delivery());
    assert.equal(o.ok, true, JSON.stringify(o));
    assert.ok(o.ms < 2_000, `${o.ms} ms`);
  });

  it('an aborted signal kills the program', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const o = failure(await deliver({ ...node('setTimeout(() => {}, 60000)'), timeoutMs: 30_000 }, delivery(), ac.signal));
    assert.equal(o.reason, 'timeout');
    assert.match(o.error, /aborted/);
    assert.ok(o.ms < 3_000);
  });
});
