// The board's rules and the coordination refusals, over HTTP (inject) against an in-process hub:
// only someone other than the assignee verifies, points count only once verified, only the
// assignee marks done, only the asked review. Every refusal is a problem document with the
// documented status and code, and leaves tasks, reviews, channels, members, templates, messages
// and deliveries exactly as they were.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';
import { assertProblem, UNKNOWN_ID } from '../http/expect.js';
import { coordinationSnapshot } from './snapshot.js';

const REPORT_LIMIT = 2000;

interface Board {
  h: TestApp;
  cap: string;
  a1: string;
  a2: string;
  a3: string;
  /** a1 with capability devops */
  ops: string;
}

async function board(t: TestContext): Promise<Board> {
  const h = await startTestApp(t, { 'limits.reportBytes': REPORT_LIMIT });
  const reg = async (id: string, role: 'agent' | 'captain', capabilities: string[] = []): Promise<string> => {
    const r = await h.call('POST', '/v1/agents', { body: { id, role, specialty: `${id} work`, capabilities } });
    assert.equal(r.status, 201, r.body);
    return r.json.token as string;
  };
  return { h, cap: await reg('Agent-4', 'captain'), a1: await reg('Agent-1', 'agent'), a2: await reg('Agent-2', 'agent'), a3: await reg('Agent-3', 'agent'), ops: await reg('Agent-8', 'agent', ['devops']) };
}

async function addTask(b: Board, body: Record<string, unknown>): Promise<string> {
  const r = await b.h.call('POST', '/v1/tasks', { token: b.cap, body });
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json.task.status, 'open');
  return r.json.task.id as string;
}

/** A call that must succeed (2xx); returns the JSON. */
async function ok(b: Board, token: string, method: string, url: string, body?: unknown): Promise<any> {
  const r = await b.h.call(method, url, { token, body: body ?? (method === 'POST' ? {} : undefined) });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${r.body}`);
  return r.json;
}

/** A refusal with this status and code that changes nothing stored. */
async function refuses(b: Board, token: string, method: string, url: string, body: unknown, status: number, code: string): Promise<void> {
  const before = coordinationSnapshot(b.h.dir);
  const r = await b.h.call(method, url, { token, body });
  assertProblem(r, status, code);
  assert.deepEqual(coordinationSnapshot(b.h.dir), before, `${method} ${url} was refused but changed stored data`);
}

async function points(b: Board): Promise<Record<string, { points: number; tasks_verified: number; tasks_done: number; reviews_given: number }>> {
  const r = await ok(b, b.a3, 'GET', '/v1/leaderboard');
  return Object.fromEntries(r.agents.map((a: any) => [a.agent, a]));
}

describe('contract board rules', () => {
  it('points count only once someone other than the assignee verifies the task', async (t) => {
    const b = await board(t);
    const id = await addTask(b, { title: 'Harden the gateway', points: 50 });
    assert.equal((await ok(b, b.a1, 'POST', `/v1/tasks/${id}/claim`)).task.assignee, 'Agent-1');
    assert.equal((await ok(b, b.a1, 'POST', `/v1/tasks/${id}/done`, { note: 'rate limits on' })).task.status, 'done');
    const before = await points(b);
    assert.equal(before['Agent-1']?.points ?? 0, 0, 'done is not verified: no points yet');
    assert.equal(before['Agent-1']?.tasks_done, 1);

    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/reviews`, { reviewers: ['Agent-2'] });
    await refuses(b, b.a1, 'POST', `/v1/tasks/${id}/approve`, {}, 403, 'forbidden');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${id}/verify`, undefined, 403, 'forbidden');
    await refuses(b, b.a3, 'POST', `/v1/tasks/${id}/approve`, {}, 403, 'forbidden');
    await refuses(b, b.a3, 'POST', `/v1/tasks/${id}/changes`, { comment: 'not asked, still opinionated' }, 403, 'forbidden');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${id}/reviews`, { reviewers: ['Agent-1'] }, 400, 'validation_failed');
    assert.equal((await points(b))['Agent-1']?.points ?? 0, 0);

    const approved = await ok(b, b.a2, 'POST', `/v1/tasks/${id}/approve`, { comment: 'looks right' });
    assert.equal(approved.task.status, 'verified');
    assert.equal(approved.task.verified_by, 'Agent-2');
    const after = await points(b);
    assert.equal(after['Agent-1']?.points, 50);
    assert.equal(after['Agent-1']?.tasks_verified, 1);
    assert.equal(after['Agent-2']?.reviews_given, 1);
    assert.equal(after['Agent-2']?.points ?? 0, 0, 'reviewing earns no task points');
    await refuses(b, b.a2, 'POST', `/v1/tasks/${id}/approve`, {}, 409, 'task_conflict');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${id}/verify`, undefined, 409, 'task_conflict');
  });

  it('only the assignee marks done; asking for changes sends the task back to it', async (t) => {
    const b = await board(t);
    const id = await addTask(b, { title: 'Split the config loader', points: 120 });
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/claim`);
    await refuses(b, b.a2, 'POST', `/v1/tasks/${id}/done`, {}, 403, 'forbidden');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${id}/done`, {}, 403, 'forbidden');
    await refuses(b, b.a2, 'POST', `/v1/tasks/${id}/release`, undefined, 403, 'forbidden');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${id}/reviews`, { reviewers: ['Agent-2'] }, 409, 'task_conflict');
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/done`, {});
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/reviews`, { reviewers: ['Agent-2', 'Agent-3'] });
    await refuses(b, b.a2, 'POST', `/v1/tasks/${id}/changes`, { comment: '   ' }, 400, 'validation_failed');

    const back = await ok(b, b.a2, 'POST', `/v1/tasks/${id}/changes`, { comment: 'add a test for the env layer' });
    assert.equal(back.task.status, 'claimed');
    assert.equal(back.task.assignee, 'Agent-1');
    assert.equal(back.task.done_at, null);
    const shown = await ok(b, b.a3, 'GET', `/v1/tasks/${id}`);
    assert.deepEqual(
      shown.reviews.map((r: any) => [r.round, r.reviewer, r.verdict]),
      [[1, 'Agent-2', 'changes'], [1, 'Agent-3', null]],
    );
    // Back with its assignee: nobody approves or verifies it until it is done again.
    await refuses(b, b.a3, 'POST', `/v1/tasks/${id}/approve`, {}, 409, 'task_conflict');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${id}/approve`, {}, 409, 'task_conflict');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${id}/verify`, undefined, 409, 'task_conflict');
    assert.equal((await points(b))['Agent-1']?.points ?? 0, 0);

    // A captain verifies a done task without a review; an agent may not.
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/done`, { note: 'env layer tested' });
    await refuses(b, b.a2, 'POST', `/v1/tasks/${id}/verify`, undefined, 403, 'forbidden');
    const verified = await ok(b, b.cap, 'POST', `/v1/tasks/${id}/verify`);
    assert.equal(verified.task.status, 'verified');
    assert.equal(verified.task.verified_by, 'Agent-4');
    assert.equal((await points(b))['Agent-1']?.points, 120);
  });

  it('every change is a task message in the task thread, and the captain hears of it', async (t) => {
    const b = await board(t);
    const id = await addTask(b, { title: 'Write the runbook', points: 10 });
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/claim`);
    await ok(b, b.a1, 'POST', `/v1/tasks/${id}/done`);
    await ok(b, b.cap, 'POST', `/v1/tasks/${id}/verify`);
    const task = (await ok(b, b.cap, 'GET', `/v1/tasks/${id}`)).task;
    assert.ok(task.thread_id, 'the task has a thread');
    const thread = await ok(b, b.cap, 'GET', `/v1/threads/${task.thread_id}`);
    const events = thread.messages.filter((m: any) => m.type === 'task');
    assert.deepEqual(events.map((m: any) => m.metadata.status), ['open', 'claimed', 'done', 'verified']);
    for (const m of events) assert.equal(m.metadata.task, id);
    const inbox = await ok(b, b.cap, 'GET', '/v1/inbox?limit=100');
    assert.deepEqual(
      inbox.items.filter((i: any) => i.message.metadata.task === id).map((i: any) => i.message.metadata.status),
      ['open', 'claimed', 'done'],
      'the captain hears what others did, not its own verify (a new task starts its thread with its creator)',
    );
  });
});

describe('coordination refusals change nothing', () => {
  it('agents cannot put tasks on the board; bad task input is refused', async (t) => {
    const b = await board(t);
    const task = { title: 'Fine task', points: 10 };
    await refuses(b, b.a1, 'POST', '/v1/tasks', task, 403, 'forbidden');
    for (const body of [
      { ...task, points: -1 },
      { ...task, points: 1.5 },
      { ...task, points: 100_001 },
      { ...task, points: 1e15 },
      { ...task, points: '10' },
      { ...task, points: null },
      { title: 'no points' },
      { ...task, title: '' },
      { ...task, title: '    ' },
      { ...task, title: 'x'.repeat(301) },
      { ...task, role: 'overlord' },
      { ...task, capabilities: ['Not A Capability!'] },
      { ...task, priority: 'critical' },
      { ...task, assignee: 'Agent-1' },
    ]) {
      await refuses(b, b.cap, 'POST', '/v1/tasks', body, 400, 'validation_failed');
    }
  });

  it('unknown and malformed task ids', async (t) => {
    const b = await board(t);
    await addTask(b, { title: 'Something real', points: 5 });
    await refuses(b, b.a1, 'GET', `/v1/tasks/${UNKNOWN_ID}`, undefined, 404, 'task_not_found');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${UNKNOWN_ID}/claim`, undefined, 404, 'task_not_found');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${UNKNOWN_ID}/done`, {}, 404, 'task_not_found');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${UNKNOWN_ID}/verify`, undefined, 404, 'task_not_found');
    await refuses(b, b.a2, 'POST', `/v1/tasks/${UNKNOWN_ID}/approve`, {}, 404, 'task_not_found');
    for (const bad of ['nope', '01ARZ3NDEKTSV4RRFFQ69G5FA', `${UNKNOWN_ID}0`, '01ARZ3NDEKTSV4RRFFQ69G5FA!']) {
      await refuses(b, b.a1, 'GET', `/v1/tasks/${encodeURIComponent(bad)}`, undefined, 400, 'validation_failed');
      await refuses(b, b.a1, 'POST', `/v1/tasks/${encodeURIComponent(bad)}/claim`, undefined, 400, 'validation_failed');
    }
  });

  it('claims: a claimed task, a task that does not fit, reviews of a task not done', async (t) => {
    const b = await board(t);
    const plain = await addTask(b, { title: 'Anyone can', points: 5 });
    const devops = await addTask(b, { title: 'Needs devops', points: 200, capabilities: ['devops'] });
    const captainsOnly = await addTask(b, { title: 'Captains only', points: 30, role: 'captain' });
    await ok(b, b.a1, 'POST', `/v1/tasks/${plain}/claim`);
    await refuses(b, b.a2, 'POST', `/v1/tasks/${plain}/claim`, undefined, 409, 'task_conflict');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${plain}/claim`, undefined, 409, 'task_conflict');
    await refuses(b, b.a2, 'POST', `/v1/tasks/${devops}/claim`, undefined, 403, 'forbidden');
    await refuses(b, b.a2, 'POST', `/v1/tasks/${captainsOnly}/claim`, undefined, 403, 'forbidden');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${plain}/reviews`, { reviewers: ['Agent-2'] }, 409, 'task_conflict');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${plain}/approve`, {}, 409, 'task_conflict');
    await refuses(b, b.cap, 'POST', `/v1/tasks/${devops}/approve`, {}, 409, 'task_conflict');
    await refuses(b, b.a1, 'POST', `/v1/tasks/${plain}/reviews`, { reviewers: [] }, 400, 'validation_failed');

    // Nothing left that fits Agent-2: `next` answers null and claims nothing.
    const before = coordinationSnapshot(b.h.dir);
    assert.deepEqual(await ok(b, b.a2, 'POST', '/v1/tasks/next'), { task: null });
    assert.deepEqual(coordinationSnapshot(b.h.dir), before);
    // The one who fits gets it.
    assert.equal((await ok(b, b.ops, 'POST', '/v1/tasks/next')).task.id, devops);
    assert.equal((await ok(b, b.cap, 'POST', '/v1/tasks/next')).task.id, captainsOnly);
  });

  it('reports over the size limit, templates with unknown placeholders or names', async (t) => {
    const b = await board(t);
    await refuses(b, b.a1, 'POST', '/v1/reports', { title: 'Too long', body: 'x'.repeat(REPORT_LIMIT + 1) }, 413, 'payload_too_large');
    await refuses(b, b.a1, 'POST', '/v1/reports', { title: 'Multibyte too', body: 'é'.repeat(REPORT_LIMIT / 2 + 1) }, 413, 'payload_too_large');
    await refuses(b, b.a1, 'POST', '/v1/reports', { title: '  ', body: 'fine' }, 400, 'validation_failed');
    await refuses(b, b.a1, 'POST', '/v1/reports', { title: 'Nowhere', body: 'fine', to: '#no-such-channel' }, 422, 'unknown_recipient');
    const fits = await ok(b, b.a1, 'POST', '/v1/reports', { title: 'Just fits', body: 'x'.repeat(REPORT_LIMIT) });
    assert.deepEqual(fits.message.to, ['#reports']);

    await refuses(b, b.cap, 'PUT', '/v1/templates/survey', { body: 'Hi {agent_id}, your {favourite_colour}?' }, 400, 'validation_failed');
    await refuses(b, b.cap, 'PUT', '/v1/templates/survey', { body: '{agent_id} {Agent_ID}' }, 400, 'validation_failed');
    await refuses(b, b.cap, 'PUT', '/v1/templates/Bad%20Name', { body: 'Hi {agent_id}' }, 400, 'validation_failed');
    await refuses(b, b.a1, 'PUT', '/v1/templates/survey', { body: 'Hi {agent_id}' }, 403, 'forbidden');
    await refuses(b, b.cap, 'POST', '/v1/templates/send', { template: 'no-such-template' }, 404, 'template_not_found');
    await refuses(b, b.cap, 'POST', '/v1/templates/send', { template: 'no-such-template', to: 'Agent-1' }, 404, 'template_not_found');
    await refuses(b, b.cap, 'GET', '/v1/templates/no-such-template', undefined, 404, 'template_not_found');
    await refuses(b, b.cap, 'POST', '/v1/onboard', { id: 'Agent-9', template: 'no-such-template' }, 404, 'template_not_found');
    const saved = await ok(b, b.cap, 'PUT', '/v1/templates/survey', { body: '{agent_id} ({role}, {specialty}): rate this cycle, says {sender} on {date}.' });
    assert.equal(saved.template.updated_by, 'Agent-4');
  });

  it('channels: unknown, badly named, and left ones', async (t) => {
    const b = await board(t);
    await refuses(b, b.a1, 'POST', '/v1/messages', { to: '#no-such-channel', body: 'hello?' }, 422, 'unknown_recipient');
    await refuses(b, b.a1, 'POST', '/v1/messages', { to: ['Agent-2', '#no-such-channel'], body: 'hello?' }, 422, 'unknown_recipient');
    await refuses(b, b.a1, 'POST', '/v1/channels/no-such-channel/join', undefined, 404, 'channel_not_found');
    await refuses(b, b.a1, 'POST', '/v1/channels/%23no-such-channel/leave', undefined, 404, 'channel_not_found');
    await refuses(b, b.a1, 'GET', '/v1/channels/no-such-channel/history', undefined, 404, 'channel_not_found');
    await refuses(b, b.a1, 'GET', '/v1/channels/no-such-channel/members', undefined, 404, 'channel_not_found');
    for (const name of ['Bad Name', 'UPPER', '-leading-dash', 'x'.repeat(51), '', '#']) {
      await refuses(b, b.a1, 'POST', '/v1/channels', { name }, 400, 'validation_failed');
    }
    await refuses(b, b.a1, 'POST', '/v1/channels/Bad%20Name/join', undefined, 400, 'validation_failed');
    await refuses(b, b.a1, 'POST', '/v1/channels', { name: 'deployments' }, 409, 'channel_exists');
    await refuses(b, b.a1, 'POST', '/v1/channels', { name: 'mine', auto_join: true }, 403, 'forbidden');

    // Agent-1 leaves #deployments: it may no longer post there or read its history.
    await ok(b, b.a2, 'POST', '/v1/messages', { to: '#deployments', body: 'api v2 rolling out' });
    assert.equal((await ok(b, b.a1, 'POST', '/v1/channels/deployments/leave')).changed, true);
    await refuses(b, b.a1, 'POST', '/v1/messages', { to: '#deployments', body: 'still here?' }, 403, 'forbidden');
    await refuses(b, b.a1, 'GET', '/v1/channels/deployments/history', undefined, 403, 'forbidden');
    await refuses(b, b.a1, 'POST', '/v1/reports', { title: 'Sneaky', body: 'report', to: '#deployments' }, 403, 'forbidden');
    const members = await ok(b, b.a2, 'GET', '/v1/channels/deployments/members');
    assert.deepEqual(members.members, ['Agent-2', 'Agent-3', 'Agent-4', 'Agent-8']);
    // Posting from outside reaches nobody new, and the next post skips Agent-1.
    const post = await ok(b, b.a2, 'POST', '/v1/messages', { to: '#deployments', body: 'api v2 done' });
    assert.deepEqual(post.recipients.sort(), ['Agent-3', 'Agent-4', 'Agent-8']);
    // Joining again gives back the history, also what was posted while away.
    await ok(b, b.a1, 'POST', '/v1/channels/deployments/join');
    const history = await ok(b, b.a1, 'GET', '/v1/channels/deployments/history');
    assert.deepEqual(history.messages.map((m: any) => m.body), ['api v2 done', 'api v2 rolling out']);
  });
});
