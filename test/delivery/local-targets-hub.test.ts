// File, tmux and command targets pushed by a real embedded hub (`swarm serve`), set up with the
// CLI as an admin would: a message with quotes, backticks and `$(touch pwned)` lands as a whole
// markdown file, is typed into a stand-in TUI in a real tmux pane, and reaches a command on its
// stdin; status.json mirrors the agent's mission; a pane running bash is never typed into (a dead
// push naming why) and nothing is executed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { within } from '../support/within.js';
import { okJson, swarm } from '../e2e/helpers.js';
import { server, startTui } from './tmux-server.js';

const BODY = 'Deploy at 14:00.\nSay "yes" or \'no\'; `backticks` and $(touch pwned) stay text.';

describe('file, tmux and command targets through a real hub', () => {
  it('pushes one message to all three, mirrors status.json, and refuses a shell pane with a dead push', async (t) => {
    const dir = tempDir();
    const hub = await spawnHub(join(dir, 'hub'), { env: { SWARM_TARGETS_BACKOFF_SECONDS: '0.05', SWARM_MAX_ATTEMPTS: '3' } });
    t.after(() => hub.stop());
    const admin = { token: hub.adminToken };
    const a1 = okJson(await swarm(hub.url, ['agents', 'add', 'Agent-1', '--json'], admin)).token as string;
    const a2 = okJson(await swarm(hub.url, ['agents', 'add', 'Agent-2', '--json'], admin)).token as string;

    const workspace = tempDir('swarm-workspace-');
    const tui = await startTui(t);
    const shell = await server(t, ['bash', '--norc', '--noprofile']);
    const script = join(dir, 'record.js');
    const recorded = join(dir, 'recorded.json');
    // Written aside and renamed: the test polls for the file, and a file seen between its creation
    // and its write was empty (a JSON.parse failure in a full-suite run).
    writeFileSync(
      script,
      `let s='';process.stdin.on('data',(d)=>s+=d);process.stdin.on('end',()=>{const fs=require('fs');fs.writeFileSync(${JSON.stringify(`${recorded}.tmp`)},s);fs.renameSync(${JSON.stringify(`${recorded}.tmp`)},${JSON.stringify(recorded)});});`,
    );
    const add = async (...args: string[]): Promise<string> => okJson(await swarm(hub.url, ['targets', 'add', '--json', 'Agent-2', ...args], admin)).target.id as string;
    await add('file', workspace, '--status-mirror');
    await add('tmux', 'agent:0.0', '--socket', tui.socket);
    await add('command', '--', process.execPath, script);
    const refused = await add('tmux', 'agent:0.0', '--socket', shell.socket);

    okJson(await swarm(hub.url, ['status', 'set', 'busy', 'Reviewing the deploy plan', '--json'], { token: a2 }));
    const sent = okJson(await swarm(hub.url, ['send', 'Agent-2', BODY, '-p', 'urgent', '-s', 'Deploy window', '--json'], { token: a1 }));
    const id = sent.message.id as string;

    const inbox = join(workspace, 'agent_workspaces', 'Agent-2', 'inbox');
    await within(10_000, async () => existsSync(inbox) && readdirSync(inbox).some((f) => f.endsWith(`_${id}.md`)), 'the markdown file');
    const file = readFileSync(join(inbox, readdirSync(inbox).find((f) => f.endsWith(`_${id}.md`)) as string), 'utf8');
    assert.ok(file.endsWith(`${BODY}\n`) || file.endsWith(BODY), file);
    assert.match(file, /Agent-1/);
    await within(10_000, async () => tui.submitted().some((s) => s.includes(BODY)), 'the TUI got the paste');
    assert.match(tui.submitted().find((s) => s.includes(BODY)) ?? '', new RegExp(`id=${id}`));
    await within(10_000, async () => existsSync(recorded), 'the command ran');
    const pushed = JSON.parse(readFileSync(recorded, 'utf8')) as { agent: string; message: { id: string; body: string } };
    assert.equal(pushed.agent, 'Agent-2');
    assert.equal(pushed.message.body, BODY);
    const statusFile = join(workspace, 'agent_workspaces', 'Agent-2', 'status.json');
    await within(10_000, async () => existsSync(statusFile) && readFileSync(statusFile, 'utf8').includes('Reviewing the deploy plan'), 'status.json');

    await within(10_000, async () => {
      const s = okJson(await swarm(hub.url, ['targets', 'status', '--agent', 'Agent-2', '--json'], admin)).targets.find((x: { id: string }) => x.id === refused);
      return s.backlog.dead === 1 && /shell_refused/.test(s.last_error ?? '');
    }, 'the shell pane’s push is dead, naming why');
    for (const d of [dir, workspace, tui.dir, shell.dir]) assert.equal(existsSync(join(d, 'pwned')), false, `nothing ran in ${d}`);
    const human = await swarm(hub.url, ['targets', 'status', '--agent', 'Agent-2'], admin);
    assert.match(human.stdout, /shell_refused/);
    await hub.stop();
  });
});
