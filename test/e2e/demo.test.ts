// `swarm demo` as a user runs it: a real CLI process starting a real hub on a free port, seeded
// with the original swarm (test/coordination/fixtures/original-swarm.json), simulated agents at
// speed 10, then --for or SIGTERM ending it with exit 0. Bad flags: exit 2, one line, nothing made.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { freePort } from '../support/net.js';
import { ROOT, SWARM_BIN } from '../support/paths.js';
import { cleanEnv, runCli } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, refused, swarm, within } from './helpers.js';

interface Roster {
  captain: string;
  agents: { id: string; role: string; specialty: string; contract_points: number }[];
}
const ROSTER = JSON.parse(readFileSync(join(ROOT, 'test', 'coordination', 'fixtures', 'original-swarm.json'), 'utf8')) as Roster;

interface Demo {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The startup lines' values. */
  url: string;
  token: string;
  data: string;
  exited: Promise<number | null>;
}

/** Starts `swarm demo ARGS…` and waits for its startup lines (URL, observer token, data directory). */
async function startDemo(args: string[], env: Record<string, string>): Promise<Demo> {
  const proc = spawn(process.execPath, [SWARM_BIN, 'demo', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const started = (): RegExpExecArray | null => /^Dashboard: (\S+)\nObserver token: (\S+)\nData: (\S+)/m.exec(out);
  for (let i = 0; i < 200 && started() === null && proc.exitCode === null; i++) await sleep(100);
  const m = started();
  if (m === null) {
    proc.kill('SIGKILL');
    throw new Error(`swarm demo printed no startup lines within 20 s\nstdout: ${out}\nstderr: ${err}`);
  }
  return { proc, stdout: () => out, stderr: () => err, url: m[1] ?? '', token: m[2] ?? '', data: m[3] ?? '', exited };
}

/** The lines of simulated events: `HH:MM:SS  Agent-N  …`. */
function eventLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}Agent-\d/.test(l));
}

describe('swarm demo', () => {
  it('refuses bad flags with exit 2 and one line, creating nothing', async () => {
    const tmp = tempDir();
    const full = join(tmp, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'not a hub');
    const bad = [
      ['--speed', '0'],
      ['--speed', '-1'],
      ['--speed', '51'],
      ['--speed', 'fast'],
      ['--agents', '0'],
      ['--agents', '9'],
      ['--for', '0s'],
      ['--for', '10x'],
      ['--for', '8d'],
      ['--seed', '-3'],
      ['--port', '70000'],
      ['--data', full],
      ['--data', join(full, 'notes.txt')],
    ];
    for (const args of bad) {
      const r = await runCli(['demo', ...args, ...(args[0] === '--for' ? [] : ['--for', '1s'])], { env: { TMPDIR: tmp }, timeoutMs: 15_000 });
      refused(r, 2, 'usage');
    }
    assert.deepEqual(readdirSync(tmp).sort(), ['full'], 'no demo directory was made');
    assert.deepEqual(readdirSync(full), ['notes.txt'], 'the non-empty --data directory is untouched');
  });

  it('seeds the original swarm, plays events at the asked pace, and exits 0 after --for', async (t) => {
    const tmp = tempDir();
    const data = join(tmp, 'hub');
    const port = await freePort();
    const demo = await startDemo(['--speed', '10', '--for', '8s', '--port', String(port), '--data', data, '--seed', '7'], { TMPDIR: tmp });
    t.after(() => demo.proc.kill('SIGKILL'));
    assert.equal(demo.url, `http://127.0.0.1:${port}/`);
    assert.equal(demo.data, data);
    const base = demo.url.replace(/\/$/, '');
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);

    // The observer reads the roster and the board...
    const agents = await http(base, 'GET', '/v1/agents', { token: demo.token });
    assert.equal(agents.status, 200, JSON.stringify(agents.json));
    const swarmAgents = agents.json.agents.filter((a: any) => a.role === 'agent' || a.role === 'captain');
    assert.deepEqual(swarmAgents.map((a: any) => [a.id, a.role, a.specialty]), ROSTER.agents.map((a) => [a.id, a.role, a.specialty]));
    assert.equal(swarmAgents.find((a: any) => a.role === 'captain')?.id, 'Agent-4');
    const board = await http(base, 'GET', '/v1/tasks?limit=1000', { token: demo.token });
    assert.equal(board.status, 200);
    for (const a of ROSTER.agents) {
      const caps = swarmAgents.find((x: any) => x.id === a.id)?.capabilities ?? [];
      const mine = board.json.tasks.filter((x: any) => x.capabilities.some((c: string) => caps.includes(c)));
      assert.equal(mine.reduce((s: number, x: any) => s + x.points, 0), a.contract_points, `${a.id}'s tasks add up to its contract points`);
      if (a.contract_points > 0) assert.ok(mine.length >= 2, `${a.id} has a few tasks`);
    }
    // ...and cannot send: exit 6, forbidden.
    refused(await swarm(base, ['send', '#reports', 'an observer speaking'], { token: demo.token }), 6, 'forbidden');

    // While it runs, the admin (its token is in the kept data directory) sees the swarm at work.
    const admin = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    const statuses = new Set<string>();
    let channelMessages = 0;
    let reports = 0;
    const deadline = Date.now() + 30_000;
    while (demo.proc.exitCode === null && Date.now() < deadline) {
      try {
        const tasks = await http(base, 'GET', '/v1/tasks?limit=1000', { token: admin, timeoutMs: 2000 });
        for (const x of tasks.json.tasks) statuses.add(x.status);
        const histories = await Promise.all(['reviews', 'deployments'].map((c) => http(base, 'GET', `/v1/channels/${c}/history?limit=1000`, { token: admin, timeoutMs: 2000 })));
        channelMessages = histories.reduce((s, h) => s + h.json.messages.length, 0);
        reports = (await http(base, 'GET', '/v1/reports?channel=reports&limit=1000', { token: admin, timeoutMs: 2000 })).json.messages.length;
      } catch {
        break; // the hub shut down between two reads
      }
      await sleep(300);
    }
    const code = await within(30_000, 'swarm demo --for 8s', demo.exited);
    assert.equal(code, 0, `stdout: ${demo.stdout()}\nstderr: ${demo.stderr()}`);
    for (const s of ['claimed', 'done', 'verified']) assert.ok(statuses.has(s), `a task was ${s} (seen: ${[...statuses].join(', ')})`);
    assert.ok(channelMessages >= 1, 'agents talked in #reviews or #deployments');
    assert.ok(reports >= 1, 'a report reached #reports');
    // Speed 10 is five events a second: about 40 in 8 s, never more than the pace allows.
    const events = eventLines(demo.stdout());
    assert.ok(events.length >= 15 && events.length <= 45, `${events.length} events in 8 s at speed 10\n${demo.stdout()}`);
    assert.ok(existsSync(join(data, 'admin.token')), '--data keeps the hub');
  });

  it('stops cleanly on SIGTERM mid-run: exit 0, the temporary directory gone', async (t) => {
    const tmp = tempDir();
    const demo = await startDemo(['--speed', '10', '--agents', '3'], { TMPDIR: tmp });
    t.after(() => demo.proc.kill('SIGKILL'));
    assert.ok(demo.data.startsWith(tmp), demo.data);
    assert.ok(existsSync(demo.data), 'the temporary directory exists while it runs');
    const agents = await http(demo.url.replace(/\/$/, ''), 'GET', '/v1/agents', { token: demo.token });
    assert.deepEqual(agents.json.agents.filter((a: any) => a.role !== 'admin' && a.role !== 'observer').map((a: any) => a.id), ['Agent-1', 'Agent-2', 'Agent-4']);
    await sleep(1500);
    demo.proc.kill('SIGTERM');
    const code = await within(20_000, 'swarm demo after SIGTERM', demo.exited);
    assert.equal(code, 0, `stdout: ${demo.stdout()}\nstderr: ${demo.stderr()}`);
    assert.ok(eventLines(demo.stdout()).length >= 3, demo.stdout());
    assert.equal(existsSync(demo.data), false, 'the temporary directory was removed');
    assert.deepEqual(readdirSync(tmp), [], 'nothing left in TMPDIR');
  });
});
