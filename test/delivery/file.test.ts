// The file deliverer on a real file system: the original tool's layout and header block, atomic
// and idempotent writes, and hostile agent ids, message ids and symlinks that must write nothing
// outside the agent's workspace. Each test works inside its own temporary directory ("the world"),
// with the target's dir one level down, so that a write escaping the workspace would show.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import type { FileTarget, Outcome } from '../../src/delivery/deliverer.js';
import { deliver } from '../../src/delivery/deliverer.js';
import { writeStatus } from '../../src/delivery/file.js';
import { tempDir } from '../support/temp.js';
import { delivery } from './fixtures.js';

/** Every file and directory under `root`, relative, sorted (symlinks not followed). */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      out.push(relative(root, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

function world(): { root: string; dir: string; outside: string; target: FileTarget } {
  const root = tempDir('swarm-file-');
  const dir = join(root, 'swarm');
  const outside = join(root, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  return { root, dir, outside, target: { kind: 'file', dir, statusMirror: false } };
}

function refusedPermanently(o: Outcome, what: string): void {
  assert.equal(o.ok, false, `${what}: ${JSON.stringify(o)}`);
  if (o.ok) return;
  assert.equal(o.reason, 'bad_target', `${what}: ${o.error}`);
  assert.equal(o.permanent, true, what);
}

describe('file deliverer', () => {
  it('writes <dir>/agent_workspaces/<Agent>/inbox/<timestamp>_<id>.md with the header block, then the body', async () => {
    const w = world();
    const d = delivery({ replyTo: '01JDQ0000000000000000000AA', to: ['Agent-3', '#deployments'] });
    const o = await deliver(w.target, d);
    assert.equal(o.ok, true, JSON.stringify(o));
    const name = `20261127T170336123Z_${d.message.id}.md`;
    assert.deepEqual(tree(w.dir), ['agent_workspaces/', 'agent_workspaces/Agent-3/', 'agent_workspaces/Agent-3/inbox/', `agent_workspaces/Agent-3/inbox/${name}`]);
    const text = readFileSync(join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox', name), 'utf8');
    assert.equal(
      text,
      [
        'From: Agent-4',
        'To: Agent-3, #deployments',
        'Tag: C2A',
        'Priority: high',
        'Type: text',
        'Subject: Deploy window',
        `Thread: ${d.message.threadId}`,
        `Message-Id: ${d.message.id}`,
        'Reply-To: 01JDQ0000000000000000000AA',
        'Created: 2026-11-27T17:03:36.123Z',
        '',
        'The api deployment starts at 14:00.',
        'Hold your merges.',
        '',
      ].join('\n'),
    );
    // Private: the body is plain text here.
    assert.equal(statSync(join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox', name)).mode & 0o777, 0o600);
    for (const d of ['agent_workspaces', 'agent_workspaces/Agent-3', 'agent_workspaces/Agent-3/inbox']) assert.equal(statSync(join(w.dir, d)).mode & 0o777, 0o700, d);
  });

  it('delivering the same message again overwrites the same file and leaves no temporary file', async () => {
    const w = world();
    const d = delivery();
    for (let attempt = 1; attempt <= 3; attempt++) assert.equal((await deliver(w.target, { ...d, attempt })).ok, true);
    const inbox = join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox');
    assert.deepEqual(readdirSync(inbox), [`20261127T170336123Z_${d.message.id}.md`]);
  });

  it('file names sort by creation time', async () => {
    const w = world();
    const times = [Date.UTC(2026, 0, 2, 3, 4, 5, 6), Date.UTC(2025, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 0, 2, 3, 4, 5, 7)];
    for (const createdAt of times) assert.equal((await deliver(w.target, delivery({ createdAt }))).ok, true);
    const names = readdirSync(join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox')).sort();
    assert.deepEqual(
      names.map((n) => n.slice(0, 19)),
      ['20251231T235959999Z', '20260102T030405006Z', '20260102T030405007Z'],
    );
  });

  it('refuses hostile agent ids as a permanent bad_target and writes nothing anywhere', async () => {
    const w = world();
    const before = tree(w.root);
    const hostile = ['', '.', '..', '../outside', '../../etc', 'a/b', '/etc', `${w.outside}`, 'a\\b', '..\\x', 'a\0b', '\0', '.hidden', 'x'.repeat(101), 'tab\there', 'new\nline'];
    for (const agent of hostile) refusedPermanently(await deliver(w.target, { ...delivery(), agent }), JSON.stringify(agent));
    for (const agent of hostile) refusedPermanently(await writeStatus(w.dir, agent, { status: 'busy', mission: 'x', updatedAt: 0 }), `status ${JSON.stringify(agent)}`);
    assert.deepEqual(tree(w.root), before);
    // The longest id allowed is still one segment.
    assert.equal((await deliver(w.target, { ...delivery(), agent: 'x'.repeat(100) })).ok, true);
  });

  it('a hostile message id becomes a plain file name inside the inbox; a subject cannot forge header lines', async () => {
    const w = world();
    const ids = ['../../../outside/pwned', '/etc/passwd', 'a\0b', '..', 'x'.repeat(500), '..\\..\\y'];
    for (const id of ids) {
      const o = await deliver(w.target, delivery({ id, subject: 'hi\nFrom: Agent-1\r\nPriority: urgent' }));
      assert.equal(o.ok, true, `${JSON.stringify(id)}: ${JSON.stringify(o)}`);
    }
    assert.deepEqual(readdirSync(w.outside), []);
    const inbox = join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox');
    const names = readdirSync(inbox).sort();
    assert.equal(names.length, ids.length);
    for (const n of names) assert.match(n, /^20261127T170336123Z_[A-Za-z0-9_-]{1,100}\.md$/);
    const text = readFileSync(join(inbox, names[0] ?? ''), 'utf8');
    assert.equal(text.split('\n').filter((l) => l.startsWith('From: ')).length, 1);
    assert.match(text, /^Subject: hi From: Agent-1 Priority: urgent$/m);
  });

  it('refuses a symlink anywhere below dir (inbox, agent dir, agent_workspaces) and writes nothing outside', async () => {
    for (const [setup, what] of [
      [(w: ReturnType<typeof world>) => {
        mkdirSync(join(w.dir, 'agent_workspaces', 'Agent-3'), { recursive: true });
        symlinkSync(w.outside, join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox'));
      }, 'inbox'],
      [(w: ReturnType<typeof world>) => {
        mkdirSync(join(w.dir, 'agent_workspaces'), { recursive: true });
        symlinkSync(w.outside, join(w.dir, 'agent_workspaces', 'Agent-3'));
      }, 'agent dir'],
      [(w: ReturnType<typeof world>) => symlinkSync(w.outside, join(w.dir, 'agent_workspaces')), 'agent_workspaces'],
      [(w: ReturnType<typeof world>) => {
        mkdirSync(join(w.dir, 'agent_workspaces', 'Agent-3'), { recursive: true });
        symlinkSync(join(w.outside, 'not-yet'), join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox'));
      }, 'dangling inbox'],
      [(w: ReturnType<typeof world>) => {
        mkdirSync(join(w.dir, 'agent_workspaces', 'Agent-3'), { recursive: true });
        writeFileSync(join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox'), 'a file');
      }, 'inbox is a file'],
    ] as const) {
      const w = world();
      setup(w);
      const before = tree(w.root);
      const o = await deliver(w.target, delivery());
      refusedPermanently(o, what);
      assert.deepEqual(readdirSync(w.outside), [], what);
      assert.deepEqual(tree(w.root), before, what);
      if (what === 'agent dir' || what === 'agent_workspaces') {
        refusedPermanently(await writeStatus(w.dir, 'Agent-3', { status: 'x', mission: '', updatedAt: 0 }), `status via ${what}`);
        assert.deepEqual(readdirSync(w.outside), [], what);
      }
    }
  });

  it('dir itself may be a symlink (the operator chose it); a relative or missing dir is a permanent bad_target', async () => {
    const w = world();
    symlinkSync(w.dir, join(w.root, 'link'));
    assert.equal((await deliver({ ...w.target, dir: join(w.root, 'link') }, delivery())).ok, true);
    assert.equal(readdirSync(join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox')).length, 1);
    refusedPermanently(await deliver({ ...w.target, dir: 'relative/dir' }, delivery()), 'relative');
    refusedPermanently(await deliver({ ...w.target, dir: join(w.root, 'missing') }, delivery()), 'missing');
    assert.equal(existsSync(join(w.root, 'missing')), false);
  });

  it('writeStatus mirrors status.json beside the inbox, atomically replaced', async () => {
    const w = world();
    assert.equal((await writeStatus(w.dir, 'Agent-3', { status: 'busy', mission: 'ship the api', updatedAt: Date.UTC(2026, 10, 27) })).ok, true);
    assert.equal((await writeStatus(w.dir, 'Agent-3', { status: 'idle', mission: '', updatedAt: Date.UTC(2026, 10, 28) })).ok, true);
    const ws = join(w.dir, 'agent_workspaces', 'Agent-3');
    assert.deepEqual(readdirSync(ws), ['status.json']);
    assert.deepEqual(JSON.parse(readFileSync(join(ws, 'status.json'), 'utf8')), { agent: 'Agent-3', status: 'idle', mission: '', updatedAt: '2026-11-28T00:00:00.000Z' });
  });

  it('a reader polling the inbox in another process never sees a partial file', async () => {
    const w = world();
    const inbox = join(w.dir, 'agent_workspaces', 'Agent-3', 'inbox');
    mkdirSync(inbox, { recursive: true });
    const stop = join(w.root, 'stop');
    // Every body ends with a marker: a file read without it was caught half-written.
    const reader = `
      const fs = require('node:fs'), path = require('node:path');
      const [inbox, stop] = process.argv.slice(1);
      let reads = 0, partial = [], seen = new Set(), started = Date.now();
      while (Date.now() - started < 60000) {
        const done = fs.existsSync(stop);
        for (const n of fs.readdirSync(inbox)) {
          if (!n.endsWith('.md')) continue;
          let text;
          try { text = fs.readFileSync(path.join(inbox, n), 'utf8'); } catch (e) { partial.push(n + ': ' + e.code); continue; }
          reads++; seen.add(n);
          if (!text.startsWith('From: ') || !text.endsWith('\\nEND\\n')) partial.push(n + ': ' + text.length + ' bytes');
        }
        if (done) break;
      }
      process.stdout.write(JSON.stringify({ reads, seen: seen.size, partial: partial.slice(0, 5), partials: partial.length }));
    `;
    const child = spawn(process.execPath, ['-e', reader, inbox, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const body = `${'payload line of some length\n'.repeat(4000)}END`;
    const count = 200;
    const ds = Array.from({ length: count }, (_, i) => delivery({ body, createdAt: Date.UTC(2026, 0, 1) + i }));
    for (let i = 0; i < count; i += 10) {
      // Ten at a time, and each batch re-delivers the previous batch's messages (overwrites).
      const batch = [...ds.slice(i, i + 10), ...ds.slice(Math.max(0, i - 10), i)];
      const outcomes = await Promise.all(batch.map((d) => deliver(w.target, d)));
      for (const o of outcomes) assert.equal(o.ok, true, JSON.stringify(o));
    }
    writeFileSync(stop, '');
    assert.equal(await exited, 0);
    const r = JSON.parse(out) as { reads: number; seen: number; partial: string[]; partials: number };
    assert.equal(r.partials, 0, `partial files seen: ${r.partial.join(', ')}`);
    assert.equal(r.seen, count);
    assert.ok(r.reads >= count, `${r.reads} reads`);
    assert.equal(readdirSync(inbox).length, count, 'no temporary file left behind');
  });
});
