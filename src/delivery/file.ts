// The file deliverer: the original tool's layout, one markdown file per message in
// `<dir>/agent_workspaces/<Agent>/inbox/<YYYYMMDDTHHMMSSmmmZ>_<id>.md`, names sortable by creation.
//
// Atomic: written under a hidden temporary name in the same directory, fsynced, then renamed, so a
// reader listing `*.md` never sees half a file; the same message delivered again overwrites the
// same name. Safe: nothing an agent id, message id or body holds can write outside
// `<dir>/agent_workspaces/<Agent>/`: the agent id must be one plain path segment, each directory
// below `dir` must be a real directory (a symlink there is refused: an agent may own its
// workspace and point its inbox anywhere), and the inbox's real path is checked again just before
// the rename. What is left is a race with someone swapping a directory for a symlink between that
// check and the rename, which Node's fs (no openat/renameat) cannot close.
//
// Private by default: directories made here are 0700 and files 0600 (the hub's user), since a
// message body the hub keeps encrypted at rest is plain text here.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { Message } from '../domain/message.js';
import type { Delivery, FileTarget, Outcome } from './deliverer.js';
import { clock, errorCode, failed, succeeded } from './outcome.js';

const MAX_SEGMENT = 100;

/** Why `agent` cannot be a directory name, or null when it can. */
export function unsafeSegment(agent: string): string | null {
  if (agent === '') return 'empty';
  if (agent.length > MAX_SEGMENT) return `longer than ${MAX_SEGMENT} characters`;
  if (agent.startsWith('.')) return 'starts with a dot';
  if (/[/\\]/.test(agent)) return 'holds a path separator';
  // NUL and every other control character: no file name should carry them.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(agent)) return 'holds a control character';
  return null;
}

/** `YYYYMMDDTHHMMSSmmmZ` in UTC: sorts as the time does. */
export function fileTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** The inbox file's name for a message: its creation time, then its id cut down to [A-Za-z0-9_-]. */
export function inboxFileName(m: Message): string {
  const id = m.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_SEGMENT) || 'message';
  return `${fileTimestamp(m.createdAt)}_${id}.md`;
}

/** A header value on one line: a subject cannot forge header lines. */
function oneLine(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

/** The file's text: the header block, a blank line, the body. */
export function inboxFileText(m: Message): string {
  const lines = [
    `From: ${oneLine(m.sender)}`,
    `To: ${oneLine(m.to.join(', '))}`,
    `Tag: ${m.kind}`,
    `Priority: ${m.priority}`,
    `Type: ${m.type}`,
    `Subject: ${oneLine(m.subject)}`,
    `Thread: ${oneLine(m.threadId)}`,
    `Message-Id: ${oneLine(m.id)}`,
    `Reply-To: ${m.replyTo === null ? '' : oneLine(m.replyTo)}`,
    `Created: ${new Date(m.createdAt).toISOString()}`,
  ];
  return `${lines.join('\n')}\n\n${m.body}${m.body.endsWith('\n') ? '' : '\n'}`;
}

class Refused extends Error {}

/**
 * Makes (or finds) `base/segments…` one real directory at a time: an existing entry that is not a
 * directory (a symlink, a file) is refused. Returns the path.
 */
async function realDirs(base: string, segments: string[]): Promise<string> {
  let path = base;
  for (const s of segments) {
    path = join(path, s);
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
    }
    const st = await lstat(path);
    if (!st.isDirectory()) throw new Refused(`${path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}: refused`);
  }
  return path;
}

/** Writes `text` to `dir/name` atomically: temporary file, fsync, rename, fsync of the directory. */
async function writeAtomic(dir: string, expectedReal: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  // O_EXCL and O_NOFOLLOW: never through a name someone placed there.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if ((await realpath(dir)) !== expectedReal) throw new Refused(`${dir} moved while writing: refused`);
    await rename(tmp, join(dir, name));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // The rename is durable once the directory is on disk too.
  const d = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Checks the target and agent, then writes into `<dir>/agent_workspaces/<agent>/<sub…>`. */
async function writeInWorkspace(dir: string, agent: string, sub: string[], name: string, text: string): Promise<Outcome> {
  const start = clock();
  if (!isAbsolute(dir)) return failed(start, 'bad_target', `the file target's directory must be an absolute path, not ${JSON.stringify(dir)}`, { permanent: true });
  const why = unsafeSegment(agent);
  if (why !== null) return failed(start, 'bad_target', `agent id ${JSON.stringify(agent.slice(0, 120))} cannot be a directory name: ${why}`, { permanent: true });
  let base: string;
  try {
    // `dir` itself may be a symlink: the operator chose it. Below it, nothing may be.
    base = await realpath(dir);
    if (!(await lstat(base)).isDirectory()) return failed(start, 'bad_target', `${dir} is not a directory`, { permanent: true });
  } catch (e) {
    return failed(start, 'bad_target', `${dir}: ${errorCode(e)}`, { permanent: true });
  }
  const segments = ['agent_workspaces', agent, ...sub];
  const expected = join(base, ...segments);
  // Belt and braces: the checked segments cannot leave the workspace, and the joined path says so.
  if (!expected.startsWith(join(base, 'agent_workspaces', agent) + (sub.length > 0 ? sep : ''))) throw new Error(`workspace path escaped: ${expected}`);
  try {
    const target = await realDirs(base, segments);
    if ((await realpath(target)) !== expected) return failed(start, 'bad_target', `${target} does not resolve inside the workspace: refused`, { permanent: true });
    await writeAtomic(target, expected, name, text);
    return succeeded(start);
  } catch (e) {
    if (e instanceof Refused) return failed(start, 'bad_target', e.message, { permanent: true });
    return failed(start, 'io', `${errorCode(e)} writing in ${expected}`);
  }
}

export function deliverToFile(t: FileTarget, d: Delivery): Promise<Outcome> {
  if (!Number.isFinite(d.message.createdAt)) throw new Error(`message ${d.message.id} has no creation time`);
  return writeInWorkspace(t.dir, d.agent, ['inbox'], inboxFileName(d.message), inboxFileText(d.message));
}

export interface AgentStatus {
  status: string;
  mission: string;
  /** ms since the epoch */
  updatedAt: number;
}

/** The status mirror: `<dir>/agent_workspaces/<agent>/status.json`, written atomically like a message. */
export function writeStatus(dir: string, agent: string, s: AgentStatus): Promise<Outcome> {
  const text = `${JSON.stringify({ agent, status: s.status, mission: s.mission, updatedAt: new Date(s.updatedAt).toISOString() }, null, 2)}\n`;
  return writeInWorkspace(dir, agent, [], 'status.json', text);
}
