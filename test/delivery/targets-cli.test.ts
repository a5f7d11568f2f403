// `swarm targets add` refuses what it can before calling the hub: an unknown kind (usage, exit 2),
// a missing or extra argument, an option of another kind, a malformed pane (validation_failed,
// exit 3), each with one stderr line. The hub address is a closed port: a call would fail with
// hub_unreachable (exit 8) instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../support/net.js';
import { runCli } from '../support/process.js';

describe('swarm targets add: refusals before any call', () => {
  it('names the problem on one stderr line with the documented exit code', async () => {
    const env = { SWARM_HUB: `http://127.0.0.1:${await freePort()}`, SWARM_TOKEN: 'swarm_unused' };
    const cases: [string[], number, RegExp][] = [
      [['targets', 'add', 'Agent-2', 'pigeon', 'x'], 2, /usage: .*pigeon/],
      [['targets', 'add', 'Agent-2', 'webhook'], 3, /validation_failed: .*webhook takes one URL/],
      [['targets', 'add', 'Agent-2', 'webhook', 'http://a', 'http://b'], 3, /validation_failed: .*not 2 arguments/],
      [['targets', 'add', 'Agent-2', 'file', '/srv', '--allow-shell'], 3, /validation_failed: --allow-shell does not apply to a file target/],
      [['targets', 'add', 'Agent-2', 'tmux', 'agents'], 3, /validation_failed: 'agents' is not a tmux pane/],
      [['targets', 'add', 'Agent-2', 'command'], 3, /validation_failed: .*needs the program to run/],
      [['targets', 'add', 'Agent-2', 'webhook', 'http://a', '--min-priority', 'soon'], 2, /usage: .*soon/],
      [['targets', 'add', 'bad id!', 'webhook', 'http://a'], 2, /usage: .*agent id/],
    ];
    for (const [args, exit, stderr] of cases) {
      const r = await runCli(args, { env });
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, stderr, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });
});
