// The tmux deliverer against a real tmux server on a private socket, one server per test, killed
// when the test ends. The stand-in TUI is a small node program that asks for bracketed paste (as
// agent TUIs do), shows what it is typed, and records each submitted input (on Enter) to a file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Outcome } from '../../src/delivery/deliverer.js';
import { deliver } from '../../src/delivery/deliverer.js';
import { isShell, paneText } from '../../src/delivery/tmux.js';
import { tempDir } from '../support/temp.js';
import { within } from '../support/within.js';
import { delivery } from './fixtures.js';
import { server, startTui } from './tmux-server.js';

/** Reads everything it is typed and shows nothing: a pane that swallows the paste. */
const SWALLOW = `
const fs = require('node:fs');
process.stdout.write('\\x1b[?2004h');
process.stdin.setRawMode(true);
process.stdin.on('data', (d) => fs.appendFileSync(process.argv[2], d));
`;

function failure(o: Outcome): Extract<Outcome, { ok: false }> {
  assert.equal(o.ok, false, JSON.stringify(o));
  return o as Extract<Outcome, { ok: false }>;
}

const HOSTILE_BODY = 'First line with "double" and \'single\' quotes\nsecond: `backticks` and $(touch pwned) and ${HOME}\n\n  indented; rm -rf / # not run\nlast line';

describe('tmux deliverer', () => {
  it('pastes the header and a multi-line body as one paste, shown literally, then one Enter submits it', async (t) => {
    const s = await startTui(t);
    const d = delivery({ body: HOSTILE_BODY });
    const o = await deliver(s.target(), d);
    assert.equal(o.ok, true, JSON.stringify(o));
    const expected = `[swarm] from Agent-4 (C2A, high) Deploy window id=${d.message.id}\n${HOSTILE_BODY}`;
    assert.equal(paneText(d.message), expected);
    await within(3_000, () => Promise.resolve(s.submitted().length === 1), 'the TUI got one submission');
    assert.deepEqual(s.submitted(), [expected]);
    const screen = await s.tmux('capture-pane', '-p', '-J', '-t', 'agent:0.0');
    for (const line of expected.split('\n')) assert.ok(screen.includes(line), `pane shows ${JSON.stringify(line)}:\n${screen}`);
    assert.equal(existsSync(join(s.dir, 'pwned')), false);
    // The named buffer was deleted after the paste.
    assert.equal((await s.tmux('list-buffers')).trim(), '');
  });

  it('a body longer than the pane is wide and high still counts as shown', async (t) => {
    const s = await startTui(t);
    const long = `${'wide '.repeat(120)}end`;
    const body = [long, ...Array.from({ length: 80 }, (_, i) => `line ${i}`)].join('\n');
    const d = delivery({ body });
    const o = await deliver(s.target(), d);
    assert.equal(o.ok, true, JSON.stringify(o));
    await within(3_000, () => Promise.resolve(s.submitted().length === 1), 'the TUI got one submission');
    assert.deepEqual(s.submitted(), [paneText(d.message)]);
  });

  it('drops control characters: an escape sequence in a body cannot end the paste and type keys', async (t) => {
    const s = await startTui(t);
    const d = delivery({ subject: 'sub\x1bject', body: 'before\x1b[201~\rtouch pwned\r\nafter\x07\x00 end' });
    assert.equal((await deliver(s.target(), d)).ok, true);
    await within(3_000, () => Promise.resolve(s.submitted().length >= 1), 'the TUI got a submission');
    assert.deepEqual(s.submitted(), [`[swarm] from Agent-4 (C2A, high) subject id=${d.message.id}\nbefore[201~\ntouch pwned\nafter end`]);
  });

  it('refuses a pane running a shell: shell_refused, permanent, nothing typed, nothing run', async (t) => {
    const s = await server(t, ['bash', '--norc', '--noprofile']);
    const d = delivery({ body: 'touch pwned\n$(touch pwned)\n`touch pwned`' });
    const o = failure(await deliver(s.target(), d));
    assert.equal(o.reason, 'shell_refused');
    assert.equal(o.permanent, true);
    assert.match(o.error, /bash/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(join(s.dir, 'pwned')), false);
    assert.doesNotMatch(await s.tmux('capture-pane', '-p', '-t', 'agent:0.0'), /touch|swarm/);
  });

  it('a pane that swallows the paste is not_shown (retryable) and gets no Enter', async (t) => {
    const dir = tempDir('swarm-swallow-');
    const script = join(dir, 'swallow.js');
    const raw = join(dir, 'raw');
    writeFileSync(script, SWALLOW);
    const s = await server(t, [process.execPath, script, raw]);
    await new Promise((r) => setTimeout(r, 200));
    const o = failure(await deliver(s.target(), delivery()));
    assert.equal(o.reason, 'not_shown');
    assert.equal(o.permanent, undefined);
    await new Promise((r) => setTimeout(r, 300));
    const got = readFileSync(raw, 'utf8');
    // The paste arrived, bracketed, and nothing after it: no Enter.
    assert.ok(got.startsWith('\x1b[200~') && got.endsWith('\x1b[201~'), JSON.stringify(got));
  });

  it('idleMs: a pane that keeps printing is busy; a quiet one is typed into', async (t) => {
    const s = await server(t, [process.execPath, '-e', 'let i = 0; setInterval(() => console.log(`tick ${i++}`), 50)']);
    const o = failure(await deliver(s.target({ idleMs: 300 }), delivery()));
    assert.equal(o.reason, 'busy');
    assert.equal(o.permanent, undefined);
    assert.ok(o.ms < 5_000, `${o.ms} ms`);
    const quiet = await startTui(t);
    const ok = await deliver(quiet.target({ idleMs: 200 }), delivery());
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.ok(ok.ms >= 200);
  });

  it('no such pane or no server is refused (retryable); a malformed pane is a permanent bad_target', async (t) => {
    const s = await startTui(t);
    const noPane = failure(await deliver(s.target({ pane: 'nosuch:0.0' }), delivery()));
    assert.equal(noPane.reason, 'refused');
    assert.equal(noPane.permanent, undefined);
    const noServer = failure(await deliver(s.target({ socket: join(s.dir, 'no-server') }), delivery()));
    assert.equal(noServer.reason, 'refused');
    for (const pane of ['', '-t', 'a\nb', 'x'.repeat(201)]) {
      const o = failure(await deliver(s.target({ pane }), delivery()));
      assert.equal(o.reason, 'bad_target', JSON.stringify(pane));
      assert.equal(o.permanent, true);
    }
    assert.deepEqual(s.submitted(), []);
  });

  it('knows shells by name, login shells and paths included', () => {
    for (const c of ['bash', '-bash', 'sh', 'dash', 'zsh', 'fish', 'ksh', 'tcsh', 'csh', 'nu', 'pwsh', '/bin/sh', 'BASH']) assert.equal(isShell(c), true, c);
    for (const c of ['node', 'claude', 'cat', 'python3', 'vim', 'bashtop', '']) assert.equal(isShell(c), false, c);
  });
});
