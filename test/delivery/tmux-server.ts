// A real tmux server on a private socket for the tmux deliverer's tests and the hub's: one server
// per test, killed when the test ends. The stand-in TUI is a small node program that asks for
// bracketed paste (as agent TUIs do), shows what it is typed, and records each submitted input (on
// Enter) to a file.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TmuxTarget } from '../../src/delivery/deliverer.js';
import { requireCommand } from '../support/debian.js';
import { tempDir } from '../support/temp.js';
import { within } from '../support/within.js';

const run = promisify(execFile);

export const TUI = `
const fs = require('node:fs');
const [out, raw] = process.argv.slice(2);
process.stdout.write('\\x1b[?2004h');
process.stdin.setRawMode(true);
let buf = '', inPaste = false, pending = '';
process.stdin.on('data', (d) => {
  if (raw) fs.appendFileSync(raw, d);
  pending += d.toString('utf8');
  for (;;) {
    if (pending.startsWith('\\x1b[200~')) { inPaste = true; pending = pending.slice(6); continue; }
    if (pending.startsWith('\\x1b[201~')) { inPaste = false; pending = pending.slice(6); continue; }
    if (pending === '' || (pending[0] === '\\x1b' && pending.length < 6)) break;
    const ch = pending[0];
    pending = pending.slice(1);
    if (ch === '\\r' && !inPaste) { fs.appendFileSync(out, JSON.stringify(buf) + '\\n'); buf = ''; process.stdout.write('\\r\\n[submitted]\\r\\n'); continue; }
    const c = ch === '\\r' ? '\\n' : ch;
    buf += c;
    process.stdout.write(c === '\\n' ? '\\r\\n' : c);
  }
});
`;

export interface Server {
  dir: string;
  socket: string;
  tmux(...args: string[]): Promise<string>;
  target(over?: Partial<TmuxTarget>): TmuxTarget;
}

/** A tmux server on a private socket with one session `agent` running `command` in `dir`. */
export async function server(t: { after(fn: () => Promise<void>): void }, command: string[]): Promise<Server> {
  await requireCommand('tmux', 'tmux', 'the tmux deliverer tests type into a real tmux pane');
  const dir = tempDir('swarm-tmux-');
  const socket = join(dir, 'sock');
  const tmux = async (...args: string[]): Promise<string> => (await run('tmux', ['-S', socket, ...args], { timeout: 5_000 })).stdout;
  await tmux('new-session', '-d', '-s', 'agent', '-x', '200', '-y', '50', '-c', dir, ...command);
  t.after(async () => {
    await tmux('kill-server').catch(() => undefined);
  });
  // The program is up once it is the pane's foreground command.
  const name = command[0]?.split('/').pop() ?? '';
  await within(5_000, async () => (await tmux('display-message', '-p', '-t', 'agent:0.0', '#{pane_current_command}')).trim() === name, `${name} runs in the pane`);
  return { dir, socket, tmux, target: (over = {}) => ({ kind: 'tmux', pane: 'agent:0.0', allowShell: false, idleMs: 0, socket, ...over }) };
}

export async function startTui(t: { after(fn: () => Promise<void>): void }): Promise<Server & { submitted(): string[] }> {
  const dir = tempDir('swarm-tui-');
  const script = join(dir, 'tui.js');
  const out = join(dir, 'submitted.ndjson');
  writeFileSync(script, TUI);
  const s = await server(t, [process.execPath, script, out]);
  // Bracketed paste is on once the program has started reading.
  await new Promise((r) => setTimeout(r, 200));
  return { ...s, submitted: () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string) : []) };
}

