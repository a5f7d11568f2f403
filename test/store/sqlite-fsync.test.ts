// A send is answered only after its commit is on disk: with store.synchronous full, every 201 the
// hub writes to a client socket comes after an fsync of the WAL that covers the send's frames.
// The crash tests cannot see this (a SIGKILL keeps the page cache, so they pass with no fsync at
// all); here the hub runs under `strace -f`, which records in causal order every write of the
// WAL, every fsync, and every answer, and each answered send is checked: the WAL write holding its
// body, then an fsync of the WAL begun after that write ended and ended before the 201 began.
// The same check run on a hub with store.synchronous normal (which answers before any fsync) must
// find sends answered too early: that is what shows the check can fail.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { registerAgents, within } from '../e2e/helpers.js';
import { requireCommand } from '../support/debian.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

/** One traced system call: where its entry and its exit are in the trace, what it touched. */
interface Call {
  name: string;
  /** The file or socket of its first argument (`strace -y`), e.g. /…/swarm.db-wal or socket:[…]. */
  target: string;
  text: string;
  start: number;
  end: number;
}

/**
 * The calls of an `strace -f -y -o FILE` trace, with the line numbers of their entry and exit
 * (a call interrupted by another thread's is split into `<unfinished ...>` and `<... resumed>`).
 */
function parseTrace(trace: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  trace.split('\n').forEach((line, i) => {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (m === null) return;
    const [, pid = '', rest = ''] = m;
    const resumed = /^<\.\.\. (\w+) resumed>/.exec(rest);
    if (resumed !== null) {
      const c = open.get(pid);
      if (c !== undefined) {
        c.end = i;
        c.text += rest;
        open.delete(pid);
      }
      return;
    }
    const call = /^(\w+)\((\d+)<([^>]*)>/.exec(rest);
    if (call === null) return;
    const c: Call = { name: call[1] ?? '', target: call[3] ?? '', text: rest, start: i, end: i };
    calls.push(c);
    if (rest.endsWith('<unfinished ...>')) open.set(pid, c);
  });
  return calls;
}

/**
 * For each marker (a send's body, also in its 201 answer): the send answered before an fsync of
 * the WAL covered it. Returns a line per such send; throws when a marker is not in the trace.
 */
function answeredBeforeFsync(calls: Call[], markers: string[]): string[] {
  const isWal = (c: Call): boolean => c.target.endsWith('-wal');
  const syncs = calls.filter((c) => isWal(c) && (c.name === 'fsync' || c.name === 'fdatasync') && / = 0$/.test(c.text));
  const early: string[] = [];
  for (const marker of markers) {
    const written = calls.find((c) => isWal(c) && c.name.startsWith('pwrite') && c.text.includes(marker));
    const answered = calls.find((c) => c.target.startsWith('socket:') && c.text.includes('HTTP/1.1 201') && c.text.includes(marker));
    if (written === undefined || answered === undefined) throw new Error(`${marker}: ${written === undefined ? 'no WAL write' : 'no 201'} in the trace`);
    if (!syncs.some((s) => s.start > written.end && s.end < answered.start)) early.push(`${marker}: WAL write at line ${written.end + 1}, 201 at line ${answered.start + 1}, no fsync of the WAL in between`);
  }
  return early;
}

/** Every thread of `pid` is traced (strace -p PID -f attaches them one by one). */
function allTraced(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.every((tid) => {
    try {
      return !/^TracerPid:\s+0$/m.test(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
    } catch {
      return true; // the thread ended
    }
  });
}

async function traceSends(t: { after: (fn: () => Promise<void>) => void }, synchronous: 'full' | 'normal'): Promise<{ calls: Call[]; markers: string[] }> {
  const strace = await requireCommand('strace', 'strace', 'the fsync order test');
  const dir = tempDir();
  const dataDir = join(dir, '.swarm');
  const hub = await spawnHub(dataDir, { cwd: dir, env: { SWARM_AGENT_RATE: '0', SWARM_SYNCHRONOUS: synchronous } });
  t.after(() => hub.kill());
  await registerAgents(hub.url, hub.adminToken, ['Agent-1', 'Agent-2']);
  const pid = hub.proc.pid as number;
  const traceFile = join(dir, 'trace.txt');
  // Page-sized strings (-s), so that a WAL frame shows the row it holds.
  const tracer: ChildProcess = spawn(strace, ['-f', '-p', String(pid), '-y', '-qq', '-s', '8192', '-e', 'trace=fsync,fdatasync,pwrite64,pwritev,write,writev,sendto,sendmsg', '-o', traceFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  tracer.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<void>((resolve) => tracer.once('exit', () => resolve()));
  t.after(async () => {
    if (tracer.exitCode === null && tracer.signalCode === null) tracer.kill('SIGINT');
    await ended;
  });
  const until = Date.now() + 10_000;
  while (!(existsSync(traceFile) && allTraced(pid))) {
    assert.ok(Date.now() < until && tracer.exitCode === null, `strace did not attach to the hub: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  // 40 sends from 8 clients, so that group commits hold several sends each.
  const markers: string[] = [];
  let n = 0;
  await within(
    60_000,
    'the traced sends',
    Promise.all(
      Array.from({ length: 8 }, async () => {
        while (n < 40) {
          const marker = `fsync-order-${n++}-${Math.random().toString(36).slice(2)}`;
          const res = await fetch(`${hub.url}/v1/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: n % 2 === 0 ? 'Agent-1' : 'Agent-2', body: marker }),
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
          assert.equal(res.status, 201);
          markers.push(marker);
        }
      }),
    ),
  );
  tracer.kill('SIGINT'); // detaches; the hub goes on
  await within(10_000, 'strace to detach', ended);
  return { calls: parseTrace(readFileSync(traceFile, 'utf8')), markers };
}

describe('a send is answered after its fsync', () => {
  it('store.synchronous full: every 201 comes after an fsync of the WAL that covers the send', async (t) => {
    const { calls, markers } = await traceSends(t, 'full');
    assert.deepEqual(answeredBeforeFsync(calls, markers), []);
  });

  it('store.synchronous normal: the same check finds sends answered before any fsync', async (t) => {
    const { calls, markers } = await traceSends(t, 'normal');
    const early = answeredBeforeFsync(calls, markers);
    t.diagnostic(`${early.length} of ${markers.length} sends answered before an fsync covered them`);
    assert.ok(early.length > markers.length / 2, `with synchronous normal only ${early.length} of ${markers.length} sends were answered before their fsync`);
  });
});
