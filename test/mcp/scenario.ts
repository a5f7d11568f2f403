// The original swarm's scenario (fixtures/original-swarm.json) played through MCP tools only: the
// captain onboards the crew, agents message, reply and ack, the captain broadcasts, Agent-3 reports
// to #reports and earns its 575 contract points through task_next, task_done and peer review; then
// the hub's state is checked over plain HTTP. Run over stdio and over Streamable HTTP.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../e2e/helpers.js';
import { ROOT } from '../support/paths.js';
import { type McpSession, ok, records, toolError } from './clients.js';

interface Roster {
  captain: string;
  agents: { id: string; role: 'agent' | 'captain'; specialty: string; contract_points: number }[];
}

export const ROSTER = JSON.parse(readFileSync(join(ROOT, 'test', 'coordination', 'fixtures', 'original-swarm.json'), 'utf8')) as Roster;
const CONTRACTS = [200, 250, 125];

export type Connect = (token: string, tools?: string) => Promise<McpSession>;

export async function originalSwarm(url: string, adminToken: string, connect: Connect): Promise<void> {
  const sessions: McpSession[] = [];
  const open = async (token: string, tools?: string) => {
    const s = await connect(token, tools);
    sessions.push(s);
    return s.client;
  };
  try {
    const captainId = ROSTER.captain;
    const crew = ROSTER.agents.filter((a) => a.id !== captainId);
    const captainSpec = ROSTER.agents.find((a) => a.id === captainId)?.specialty ?? '';
    const reg = await http(url, 'POST', '/v1/agents', { token: adminToken, body: { id: captainId, role: 'captain', specialty: captainSpec } });
    assert.equal(reg.status, 201, JSON.stringify(reg.json));
    const captain = await open(reg.json.token, 'all');
    assert.deepEqual(await ok(captain, 'whoami'), { id: captainId, role: 'captain', specialty: captainSpec });

    // The captain onboards the crew; Agent-3 carries the devops capability its contracts need.
    const tokens: Record<string, string> = {};
    for (const a of crew) {
      const r = await ok(captain, 'onboard', { id: a.id, specialty: a.specialty, ...(a.id === 'Agent-3' ? { capabilities: ['devops'] } : {}) });
      assert.equal(r.id, a.id);
      assert.match(r.token, /^swarm_/);
      tokens[a.id] = r.token;
    }
    const [a1, a2, a3, a7] = await Promise.all(['Agent-1', 'Agent-2', 'Agent-3', 'Agent-7'].map((id) => open(tokens[id] ?? '')));
    if (a1 === undefined || a2 === undefined || a3 === undefined || a7 === undefined) throw new Error('sessions');
    const roster = await ok(a1, 'agents');
    assert.deepEqual(roster.agents.filter((x: any) => x.role !== 'admin').map((x: any) => x.id).sort(), ROSTER.agents.map((x) => x.id).sort());

    // Direct messages: urgent first, read, reply in the thread, ack.
    await ok(a1, 'send', { to: 'Agent-2', body: 'Please review the deploy script before Friday' });
    const urgent = await ok(a1, 'send', { to: 'Agent-2', body: 'Production gateway is down\nneed a hand now', priority: 'urgent', subject: 'Gateway down' });
    assert.equal(urgent.kind, 'A2A');
    const inbox2 = records(await ok(a2, 'inbox', { unread: true }));
    assert.equal(inbox2[0]?.id, urgent.id, 'urgent first');
    assert.equal(inbox2[0]?.pri, 'urgent');
    assert.equal(inbox2[0]?.subject, 'Gateway down');
    assert.equal(inbox2[0]?.first_lines, 'Production gateway is down / need a hand now');
    const read = await ok(a2, 'read', { id: urgent.id });
    assert.equal(read.body, 'Production gateway is down\nneed a hand now');
    const reply = await ok(a2, 'reply', { id: urgent.id, body: 'On it: rolling back the canary release' });
    assert.equal(reply.thread, urgent.thread);
    assert.deepEqual(reply.to, ['Agent-1']);
    assert.deepEqual((await ok(a2, 'ack', { ids: [urgent.id] })).acked, [urgent.id]);
    const thread = await ok(a1, 'thread', { id: reply.id });
    assert.deepEqual(records(thread).map((m) => m.id), [urgent.id, reply.id]);
    const found = await ok(a1, 'search', { text: 'canary' });
    assert.deepEqual(records(found).map((m) => m.id), [reply.id]);

    // The captain broadcasts; plain agents may not.
    const freeze = await ok(captain, 'broadcast', { body: 'Deploy freeze from 18:00 UTC', priority: 'high' });
    assert.equal(freeze.kind, 'C2A-ALL');
    assert.equal(freeze.to.length, crew.length);
    const inbox1 = records(await ok(a1, 'inbox', { limit: 50 }));
    assert.equal(inbox1.find((i) => i.id === freeze.id)?.kind, 'C2A-ALL');

    // Agent-3 reports to #reports: everyone else receives it.
    const report = await ok(a3, 'report', { title: 'Infrastructure & DevOps report', body: '# Infra\n\nKubernetes deployment ready: 3 api replicas on 8080.', tags: ['infrastructure'] });
    assert.deepEqual([...report.to].sort(), ROSTER.agents.map((a) => a.id).filter((id) => id !== 'Agent-3').sort());
    await ok(a3, 'status', { status: 'busy', mission: 'devops contracts' });

    // Agent-3's contracts: task_next claims them, task_done, a peer approves each.
    const ids: string[] = [];
    for (const points of CONTRACTS) ids.push((await ok(captain, 'task_add', { title: `Infrastructure contract worth ${points}`, points, capabilities: ['devops'] })).id);
    assert.deepEqual(await ok(a1, 'task_next'), { task: null }, 'no devops task fits Agent-1');
    const claimed: string[] = [];
    for (let i = 0; i < CONTRACTS.length; i++) claimed.push((await ok(a3, 'task_next')).task.id);
    assert.deepEqual(claimed, ids, 'same priority: oldest first');
    const reviewers = [a2, a7, a2];
    const reviewerIds = ['Agent-2', 'Agent-7', 'Agent-2'];
    for (const [i, id] of claimed.entries()) {
      assert.equal((await ok(a3, 'task_done', { id, note: 'rolled out with the new manifests' })).status, 'done');
      assert.match(await toolError(a3, 'review', { id, action: 'approve' }), /forbidden/, 'no approving one’s own task');
      assert.equal((await ok(a3, 'review', { id, action: 'request', reviewers: [reviewerIds[i]] })).round, 1);
      const approved = await ok(reviewers[i] ?? a2, 'review', { id, action: 'approve', comment: 'looks right' });
      assert.equal(approved.task.status, 'verified');
    }
    const board = await ok(captain, 'leaderboard');
    assert.equal(board.agents[0]?.agent, 'Agent-3');
    assert.equal(board.agents[0]?.points, 575);

    // The hub's state, over HTTP.
    const [leaders, verified, reports, inbox2After] = await Promise.all([
      http(url, 'GET', '/v1/leaderboard', { token: adminToken }),
      http(url, 'GET', '/v1/tasks?status=verified', { token: adminToken }),
      http(url, 'GET', '/v1/reports', { token: adminToken }),
      http(url, 'GET', '/v1/inbox', { token: tokens['Agent-2'] ?? '' }),
    ]);
    const row = (id: string) => leaders.json.agents.find((r: any) => r.agent === id);
    assert.equal(row('Agent-3')?.points, 575);
    assert.equal(row('Agent-3')?.tasks_verified, 3);
    assert.equal(row('Agent-2')?.reviews_given, 2);
    assert.equal(row('Agent-7')?.reviews_given, 1);
    assert.deepEqual(verified.json.tasks.map((t: any) => t.id).sort(), [...ids].sort());
    assert.deepEqual(reports.json.messages.map((m: any) => m.id), [report.id]);
    assert.ok(!inbox2After.json.items.some((i: any) => i.message.id === urgent.id), 'the acked message left Agent-2’s inbox');
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
}
