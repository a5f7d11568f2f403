// The tmux deliverer: types a message into the terminal pane where an agent's TUI runs, the
// portable successor of pasting into a chat window by screen coordinates.
//
// One try: (1) ask tmux what runs in the pane; a shell is refused unless the target allows it,
// since a pasted line there would be a command; (2) optionally wait until the pane has been quiet
// for idleMs, so the text does not land in the middle of the agent's output; (3) load the text into
// a named tmux buffer through stdin (never argv, never a shell) and paste it with bracketed paste
// (-p), so a multi-line body arrives as one paste and not as a line per Enter; (4) read the pane
// back and send Enter only if the pasted text is on it, so a pane that swallowed the paste is
// reported as `not_shown` instead of submitting whatever it holds.
//
// Limitation: a TUI that folds a long paste into a placeholder ("[Pasted text +20 lines]") shows
// no text to check and gets `not_shown`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '../domain/message.js';
import type { Delivery, Outcome, TmuxTarget } from './deliverer.js';
import { clock, errorCode, failed, succeeded } from './outcome.js';

/** Foreground programs that would run a pasted line as a command. */
export const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'tcsh', 'csh', 'nu', 'pwsh', 'ash', 'rbash', 'yash', 'elvish', 'xonsh']);
/** One tmux command's limit: tmux answers at once unless its server hangs. */
const TMUX_TIMEOUT_MS = 5_000;
/** How long the pasted text may take to appear on the pane. */
const SHOWN_WITHIN_MS = 2_000;
/** How many of the text's last non-empty lines must be on the pane. */
const CHECKED_LINES = 3;

export function isShell(command: string): boolean {
  // A login shell shows as `-bash`; a path as `/bin/sh`.
  const name = command.trim().replace(/^-/, '').split('/').pop() ?? '';
  return SHELLS.has(name.toLowerCase());
}

/**
 * The text typed: a one-line header, then the body. Control characters other than newline and tab
 * are dropped: an escape sequence in a body could end the bracketed paste early and type the rest
 * as keys (ESC [ 2 0 1 ~), and a carriage return is an Enter.
 */
export function paneText(m: Message): string {
  const clean = (s: string): string =>
    s
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  const header = clean(`[swarm] from ${m.sender} (${m.kind}, ${m.priority}) ${m.subject} id=${m.id}`).replace(/\n/g, ' ');
  return `${header}\n${clean(m.body).replace(/\n+$/, '')}`;
}

class TmuxFailed extends Error {
  constructor(
    readonly code: string,
    readonly stderr: string,
  ) {
    super(`${code}${stderr === '' ? '' : `: ${stderr}`}`);
  }
}

function tmux(t: TmuxTarget, args: string[], input?: string, signal?: AbortSignal): Promise<string> {
  const argv = t.socket === '' ? args : ['-S', t.socket, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile('tmux', argv, { timeout: TMUX_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, ...(signal === undefined ? {} : { signal }) }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new TmuxFailed(err.killed === true ? 'timeout' : errorCode(err) === 'ABORT_ERR' ? 'aborted' : typeof err.code === 'string' ? err.code : `exit ${String(err.code)}`, String(stderr).trim().split('\n')[0] ?? ''));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** Collapsed whitespace, so that a TUI's wrapping and padding do not matter. */
function normalize(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The text's last non-empty lines, normalized and joined: what must be on the pane. */
export function shownNeedle(text: string): string {
  const lines = text.split('\n').map(normalize).filter((l) => l !== '');
  return lines.slice(-CHECKED_LINES).join(' ');
}

/** Failure for a tmux command that did not run: no server or pane is retryable, no tmux is not. */
function tmuxFailure(start: number, e: unknown, step: string): Outcome {
  if (!(e instanceof TmuxFailed)) throw e;
  if (e.code === 'ENOENT') return failed(start, 'bad_target', 'tmux is not installed on the hub', { permanent: true });
  if (e.code === 'timeout') return failed(start, 'timeout', `tmux ${step} did not answer within ${TMUX_TIMEOUT_MS} ms`);
  if (e.code === 'aborted') return failed(start, 'timeout', `aborted during tmux ${step}`);
  return failed(start, 'refused', `tmux ${step}: ${e.message}`);
}

async function waitIdle(t: TmuxTarget, signal: AbortSignal | undefined): Promise<boolean> {
  // Bounded: a pane that keeps changing for this long is busy.
  const limit = t.idleMs * 3 + 2_000;
  const step = Math.max(20, Math.min(250, Math.floor(t.idleMs / 4)));
  const begin = Date.now();
  let last = await tmux(t, ['capture-pane', '-p', '-t', t.pane], undefined, signal);
  let since = Date.now();
  while (Date.now() - begin < limit) {
    await sleep(step, undefined, signal === undefined ? {} : { signal });
    const now = await tmux(t, ['capture-pane', '-p', '-t', t.pane], undefined, signal);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= t.idleMs) return true;
  }
  return false;
}

export async function deliverToTmux(t: TmuxTarget, d: Delivery, signal?: AbortSignal): Promise<Outcome> {
  const start = clock();
  // eslint-disable-next-line no-control-regex
  if (t.pane === '' || t.pane.length > 200 || /[\u0000-\u001f\u007f]/.test(t.pane) || t.pane.startsWith('-')) return failed(start, 'bad_target', `not a tmux pane: ${JSON.stringify(t.pane.slice(0, 200))}`, { permanent: true });
  let command: string;
  try {
    command = (await tmux(t, ['display-message', '-p', '-t', t.pane, '#{pane_current_command}'], undefined, signal)).trim();
  } catch (e) {
    return tmuxFailure(start, e, 'display-message');
  }
  if (!t.allowShell && isShell(command)) return failed(start, 'shell_refused', `pane ${t.pane} runs ${command}: typing into a shell is not allowed for this target`, { permanent: true });

  try {
    if (t.idleMs > 0 && !(await waitIdle(t, signal))) return failed(start, 'busy', `pane ${t.pane} did not stay unchanged for ${t.idleMs} ms`);
  } catch (e) {
    if (errorCode(e) === 'ABORT_ERR') return failed(start, 'timeout', 'aborted while waiting for the pane to go quiet');
    return tmuxFailure(start, e, 'capture-pane');
  }

  const text = paneText(d.message);
  const buffer = `swarm-${randomBytes(8).toString('hex')}`;
  const needle = shownNeedle(text);
  const lines = text.split('\n').length;
  let step = 'load-buffer';
  try {
    await tmux(t, ['load-buffer', '-b', buffer, '-'], text, signal);
    step = 'paste-buffer';
    // -d deletes the buffer after pasting; -p brackets the paste when the program asked for it.
    await tmux(t, ['paste-buffer', '-p', '-d', '-b', buffer, '-t', t.pane], undefined, signal);
    step = 'capture-pane';
    const until = Date.now() + SHOWN_WITHIN_MS;
    let shown = false;
    for (;;) {
      // -J joins lines tmux wrapped; a TUI's own wrapping is undone by normalize().
      const screen = await tmux(t, ['capture-pane', '-p', '-J', '-t', t.pane, '-S', String(-(lines + 10))], undefined, signal);
      if (normalize(screen).includes(needle)) {
        shown = true;
        break;
      }
      if (Date.now() >= until) break;
      await sleep(50);
    }
    if (!shown) return failed(start, 'not_shown', `the pasted text did not appear on pane ${t.pane} within ${SHOWN_WITHIN_MS} ms; Enter not sent`);
    step = 'send-keys';
    await tmux(t, ['send-keys', '-t', t.pane, 'Enter'], undefined, signal);
    return succeeded(start);
  } catch (e) {
    return tmuxFailure(start, e, step);
  } finally {
    // A paste that failed leaves its buffer behind; -d removed it otherwise (an error here is moot).
    if (step === 'load-buffer' || step === 'paste-buffer') await tmux(t, ['delete-buffer', '-b', buffer]).catch(() => undefined);
  }
}
