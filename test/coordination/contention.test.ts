// Contention on the contract board: 200 open tasks, 8 agents as 8 separate processes all taking
// `task next` as fast as they can. Every task is claimed exactly once; then the work is done,
// reviewed or verified, and the leaderboard adds up to exactly the verified points.
//
// The claimers are child Node processes looping over HTTP `POST /v1/tasks/next`: one `swarm`
// CLI process per claim costs ~0.4 s of CPU, and 8 agents draining 200 tasks that way measured
// 154 s on a 2-core machine (the hub's part was under 6 s). The CLI's own `task next` is still
// exercised: each agent's last call, once the board is empty, is `swarm task next -q` (exit 4).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, okJson, refused, registerAgents, swarm, within } from '../e2e/helpers.js';

const TASKS = 200;
const AGENTS = Array.from({ length: 8 }, (_, i) => `Worker-${i + 1}`);

/** One agent's process: claims until the board answers null; prints one claimed id per line. */
const CLAIMER = `
const [url, token] = [process.env.HUB, process.env.TOKEN];
for (;;) {
  const res = await fetch(url + '/v1/tasks/next', { method: 'POST', headers: { authorization: 'Bearer ' + token }, signal: AbortSignal.timeout(15000) });
  const doc = await res.json();
  if (res.status !== 200) { console.error(res.status + ' ' + JSON.stringify(doc)); process.exit(1); }
  if (doc.task === null) break;
  process.stdout.write(doc.task.id + '\\n');
}
`;

function claimer(url: string, token: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', CLAIMER], { env: { ...process.env, HUB: url, TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`claimer exited ${code}: ${err}`));
      else resolve(out.split('\n').filter((l) => l !== ''));
    });
  });
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

describe('contention on the contract board', () => {
  it('8 agent processes drain 200 tasks: each claimed exactly once, and the leaderboard adds up', async (t) => {
    const dataDir = join(tempDir(), 'data');
    const hub = await spawnHub(dataDir, { env: { SWARM_SYNCHRONOUS: 'normal' } });
    t.after(() => hub.stop());
    const { url } = hub;
    const cap = (await registerAgents(url, hub.adminToken, ['Agent-4'], 'captain'))['Agent-4'] ?? '';
    const tokens = await registerAgents(url, hub.adminToken, AGENTS);
    const tok = (id: string): string => tokens[id] ?? '';

    // Varied points and priorities, so that claim order is not insertion order.
    const points = new Map<string, number>();
    const priorities = ['low', 'regular', 'high', 'urgent'] as const;
    await pool(
      Array.from({ length: TASKS }, (_, i) => i),
      8,
      async (i) => {
        const p = (i * 37) % 500 + (i % 7 === 0 ? 0 : 1);
        const r = await http(url, 'POST', '/v1/tasks', { token: cap, body: { title: `Contract ${i}`, points: p, priority: priorities[i % 4] } });
        assert.equal(r.status, 201, JSON.stringify(r.json));
        points.set(r.json.task.id as string, p);
      },
    );
    assert.equal(points.size, TASKS);

    const started = Date.now();
    const claims = await within(90_000, 'the claimers', Promise.all(AGENTS.map((a) => claimer(url, tok(a)))));
    t.diagnostic(`claims per agent ${claims.map((c) => c.length).join(' ')} in ${Date.now() - started} ms`);
    const owner = new Map<string, string>();
    claims.forEach((ids, i) => {
      for (const id of ids) {
        assert.equal(owner.get(id), undefined, `task ${id} claimed by ${owner.get(id)} and ${AGENTS[i]}`);
        owner.set(id, AGENTS[i] ?? '');
      }
    });
    assert.equal(owner.size, TASKS, 'every task claimed');
    assert.deepEqual([...owner.keys()].sort(), [...points.keys()].sort());
    assert.ok(claims.filter((c) => c.length > 0).length >= 2, `claims spread over agents: ${claims.map((c) => c.length).join(',')}`);

    // The board agrees: nothing open, everything claimed by whom the processes said.
    const open = await http(url, 'GET', '/v1/tasks?status=open', { token: cap });
    assert.deepEqual(open.json.tasks, []);
    const claimed = await http(url, 'GET', '/v1/tasks?status=claimed&limit=1000', { token: cap });
    assert.equal(claimed.json.tasks.length, TASKS);
    for (const task of claimed.json.tasks) assert.equal(task.assignee, owner.get(task.id), task.id);

    // With the board empty, the CLI's `task next` says so with exit 4, for every agent.
    const last = await Promise.all(AGENTS.map((a) => swarm(url, ['task', 'next', '-q'], { token: tok(a) })));
    for (const r of last) refused(r, 4, 'task_not_found');

    // Each agent marks its tasks done; nothing counts yet.
    const byAgent = new Map<string, string[]>(AGENTS.map((a) => [a, [...owner].filter(([, who]) => who === a).map(([id]) => id)]));
    await Promise.all(
      AGENTS.map(async (a) => {
        for (const id of byAgent.get(a) ?? []) {
          const r = await http(url, 'POST', `/v1/tasks/${id}/done`, { token: tok(a), body: {} });
          assert.equal(r.status, 200, JSON.stringify(r.json));
        }
      }),
    );
    const early = await http(url, 'GET', '/v1/leaderboard', { token: cap });
    assert.equal(early.json.agents.reduce((s: number, r: any) => s + r.points, 0), 0, 'done is not verified');
    assert.equal(early.json.agents.reduce((s: number, r: any) => s + r.tasks_done, 0), TASKS);

    // Every other task is reviewed by the next agent round the table; the rest the captain verifies.
    const reviewsBy = new Map<string, number>();
    const verified = new Map<string, number>();
    await Promise.all(
      AGENTS.map(async (a, i) => {
        const reviewer = AGENTS[(i + 1) % AGENTS.length] ?? '';
        for (const [k, id] of (byAgent.get(a) ?? []).entries()) {
          if (k % 2 === 0) {
            const req = await http(url, 'POST', `/v1/tasks/${id}/reviews`, { token: tok(a), body: { reviewers: [reviewer] } });
            assert.equal(req.status, 200, JSON.stringify(req.json));
            const ok = await http(url, 'POST', `/v1/tasks/${id}/approve`, { token: tok(reviewer), body: { comment: 'ok' } });
            assert.equal(ok.status, 200, JSON.stringify(ok.json));
            assert.equal(ok.json.task.status, 'verified');
            reviewsBy.set(reviewer, (reviewsBy.get(reviewer) ?? 0) + 1);
          } else {
            const ok = await http(url, 'POST', `/v1/tasks/${id}/verify`, { token: cap });
            assert.equal(ok.status, 200, JSON.stringify(ok.json));
          }
          verified.set(a, (verified.get(a) ?? 0) + (points.get(id) ?? NaN));
        }
      }),
    );

    const board = okJson(await swarm(url, ['--json', 'leaderboard'], { token: tok('Worker-1') }));
    const total = [...points.values()].reduce((s, p) => s + p, 0);
    assert.equal(board.agents.reduce((s: number, r: any) => s + r.points, 0), total, 'the leaderboard adds up to the verified points');
    for (const a of AGENTS) {
      const row = board.agents.find((r: any) => r.agent === a);
      assert.equal(row?.points ?? 0, verified.get(a) ?? 0, `${a}'s points`);
      assert.equal(row?.tasks_verified ?? 0, byAgent.get(a)?.length ?? 0, `${a}'s verified tasks`);
      assert.equal(row?.reviews_given ?? 0, reviewsBy.get(a) ?? 0, `${a}'s reviews`);
    }
    assert.equal(board.agents.find((r: any) => r.agent === 'Agent-4')?.points ?? 0, 0, 'verifying earns the captain nothing');
    const sorted = [...board.agents].sort((x: any, y: any) => y.points - x.points);
    assert.deepEqual(board.agents.map((r: any) => r.points), sorted.map((r: any) => r.points), 'highest points first');
    const still = await http(url, 'GET', '/v1/tasks?status=verified&limit=1000', { token: cap });
    assert.equal(still.json.tasks.length, TASKS);
  });
});
