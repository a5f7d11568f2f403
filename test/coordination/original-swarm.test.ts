// The original swarm, seeded from its roster (fixtures/original-swarm.json, a copy of
// shared/fixtures/original-swarm.json): eight agents with Agent-4 as captain, coordinating through
// a real `swarm serve` with one `swarm` process per command. Agent-3 posts its infrastructure
// report to #reports, a peer review round verifies a task, the captain announces a deployment,
// Agent-3 earns its 575 contract points through `task next` and reviews, a survey goes out from a
// template, and the cycle ends with `swarm wrapup all`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/paths.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { okJson, okText, REPORT_FIXTURE, refused, swarm } from '../e2e/helpers.js';

interface Roster {
  captain: string;
  agents: { id: string; role: 'agent' | 'captain'; specialty: string; contract_points: number }[];
  channels: string[];
}

const ROSTER = JSON.parse(readFileSync(join(ROOT, 'test', 'coordination', 'fixtures', 'original-swarm.json'), 'utf8')) as Roster;
const CAPTAIN = ROSTER.captain;
const CREW = ROSTER.agents.filter((a) => a.id !== CAPTAIN);
const AGENT_3 = ROSTER.agents.find((a) => a.id === 'Agent-3');
/** Agent-3's contract, split into three devops tasks only it can take. */
const CONTRACTS = [200, 250, 125];

describe('the original swarm, seeded', () => {
  it('onboards the roster, reports, reviews, deploys, pays out contracts, surveys and wraps up', async (t) => {
    assert.equal(CREW.length, 7);
    assert.equal(AGENT_3?.contract_points, CONTRACTS.reduce((s, p) => s + p, 0), 'the fixture says Agent-3 is worth 575');
    const dir = tempDir();
    const hub = await spawnHub(join(dir, '.swarm'), { cwd: dir, env: { SWARM_SYNCHRONOUS: 'normal' } });
    // A hub that dies mid-test shows up as hub_unreachable in the CLI: say why it died.
    let stopping = false;
    hub.proc.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`the hub exited early (${code ?? signal}):\n${hub.output()}\n`);
    });
    t.after(() => {
      stopping = true;
      return hub.stop();
    });
    const url = hub.url;
    const tokens: Record<string, string> = {};
    const as = (agent: string, args: string[]) => swarm(url, args, { token: tokens[agent] ?? '', cwd: dir });
    const json = async (agent: string, args: string[]): Promise<any> => okJson(await as(agent, ['--json', ...args]));
    const specialty = (id: string): string => ROSTER.agents.find((a) => a.id === id)?.specialty ?? '';
    let reportId = '';
    let deployId = '';

    await t.test('the admin registers the captain, who onboards the other seven', async () => {
      // From `dir` the CLI finds the admin token in ./.swarm/admin.token.
      const cap = okText(await swarm(url, ['agents', 'add', CAPTAIN, '--role', 'captain', '--specialty', specialty(CAPTAIN), '-q'], { cwd: dir }));
      tokens[CAPTAIN] = cap.trim();
      const onboarded = await Promise.all(
        CREW.map((a) => as(CAPTAIN, ['onboard', a.id, '--specialty', a.specialty, ...(a.id === 'Agent-3' ? ['--cap', 'devops'] : []), '-q'])),
      );
      CREW.forEach((a, i) => (tokens[a.id] = okText(onboarded[i] ?? { code: null, stdout: '', stderr: '' }).trim()));
      const roster = await json('Agent-1', ['agents']);
      const seen = roster.agents.filter((a: any) => a.role !== 'admin').map((a: any) => [a.id, a.role, a.specialty]);
      assert.deepEqual(seen, ROSTER.agents.map((a) => [a.id, a.role, a.specialty]));
      const members = await json('Agent-5', ['channel', 'members', '#reports']);
      assert.deepEqual(members.members, ROSTER.agents.map((a) => a.id), 'everyone auto-joined #reports');
      const channels = await json('Agent-5', ['channel', 'list']);
      for (const c of ROSTER.channels) assert.ok(channels.channels.some((x: any) => `#${x.name}` === c && x.member === true && x.members === 8), `${c} has all eight`);
    });

    await t.test('Agent-3 posts its infrastructure report to #reports; it arrives byte for byte', async () => {
      const posted = await json('Agent-3', ['report', 'post', '--title', 'Infrastructure & DevOps report', '--to', '#reports', '--file', REPORT_FIXTURE, '--tag', 'infrastructure']);
      reportId = posted.message.id;
      assert.deepEqual(posted.recipients.sort(), ROSTER.agents.map((a) => a.id).filter((id) => id !== 'Agent-3'));
      const shown = await json('Agent-6', ['report', 'show', reportId]);
      assert.ok(Buffer.from(shown.message.body, 'utf8').equals(readFileSync(REPORT_FIXTURE)), 'the body round-trips byte-identical');
      assert.equal(shown.message.type, 'report');
      assert.equal(shown.message.from, 'Agent-3');
      const found = await json('Agent-8', ['report', 'list', '--search', 'Kubernetes deployment']);
      assert.deepEqual(found.messages.map((m: any) => m.id), [reportId]);
      const none = await json('Agent-8', ['report', 'list', '--search', 'xylophone']);
      assert.deepEqual(none.messages, []);
    });

    await t.test('a review round: Agent-2 does a task, Agent-7 reviews and approves it', async () => {
      const added = await json(CAPTAIN, ['task', 'add', 'Review the service boundaries', '--points', '100']);
      const id = added.task.id;
      await json('Agent-2', ['task', 'claim', id]);
      await json('Agent-2', ['task', 'done', id, '--note', 'boundaries drawn in ARCHITECTURE.md']);
      refused(await as('Agent-2', ['review', 'approve', id]), 6, 'forbidden');
      refused(await as('Agent-5', ['review', 'approve', id]), 6, 'forbidden');
      const asked = await json('Agent-2', ['review', 'request', id, '--reviewers', 'Agent-7']);
      assert.equal(asked.round, 1);
      const inbox = await json('Agent-7', ['inbox']);
      assert.ok(inbox.items.some((i: any) => i.message.type === 'review' && i.message.metadata.task === id), 'the reviewer was asked');
      const approved = await json('Agent-7', ['review', 'approve', id, '--comment', 'clear and complete']);
      assert.equal(approved.task.status, 'verified');
      assert.equal(approved.task.verified_by, 'Agent-7');
      const shown = await json('Agent-1', ['task', 'show', id]);
      assert.deepEqual(shown.reviews.map((r: any) => [r.reviewer, r.verdict, r.comment]), [['Agent-7', 'approved', 'clear and complete']]);
    });

    await t.test('the captain announces a deployment in #deployments', async () => {
      const sent = await json(CAPTAIN, ['send', '#deployments', 'api v2 rolling out: 3 replicas on port 8080, handlers scale to 5', '--type', 'deployment', '--subject', 'Deploying api v2']);
      deployId = sent.message.id;
      assert.equal(sent.message.kind, 'C2A');
      assert.deepEqual(sent.recipients.sort(), CREW.map((a) => a.id));
      const history = await json('Agent-1', ['channel', 'history', '#deployments']);
      assert.deepEqual(history.messages.map((m: any) => m.id), [deployId]);
    });

    await t.test('Agent-3 earns 575 points: devops contracts claimed with task next, done, and approved by peers', async () => {
      const ids: string[] = [];
      for (const points of CONTRACTS) {
        ids.push((await json(CAPTAIN, ['task', 'add', `Infrastructure contract worth ${points}`, '--points', String(points), '--cap', 'devops'])).task.id);
      }
      // Nobody else fits a devops task.
      const [next1, claim7] = await Promise.all([as('Agent-1', ['task', 'next']), as('Agent-7', ['task', 'claim', ids[0] ?? ''])]);
      refused(next1, 4, 'task_not_found');
      refused(claim7, 6, 'forbidden');
      const claimed: string[] = [];
      for (let i = 0; i < CONTRACTS.length; i++) claimed.push(okText(await as('Agent-3', ['task', 'next', '-q'])).trim());
      assert.deepEqual(claimed, ids, 'same priority: oldest first');
      refused(await as('Agent-3', ['task', 'next', '-q']), 4, 'task_not_found');
      const reviewers = ['Agent-2', 'Agent-8', 'Agent-2'];
      await Promise.all(
        claimed.map(async (id, i) => {
          await json('Agent-3', ['task', 'done', id, '--note', 'rolled out with the new manifests']);
          await json('Agent-3', ['review', 'request', id, '--reviewers', reviewers[i] ?? '']);
          await json(reviewers[i] ?? '', ['review', 'approve', id]);
        }),
      );
      const board = await json('Agent-6', ['leaderboard']);
      const row = (id: string) => board.agents.find((r: any) => r.agent === id);
      assert.equal(row('Agent-3')?.points, 575);
      assert.equal(row('Agent-3')?.tasks_verified, 3);
      assert.equal(row('Agent-2')?.points, 100);
      assert.equal(row('Agent-2')?.reviews_given, 2);
      assert.equal(row('Agent-8')?.reviews_given, 1);
      assert.equal(row('Agent-7')?.reviews_given, 1);
      assert.equal(board.agents[0]?.agent, 'Agent-3', 'top of the board');
      const verified = await json(CAPTAIN, ['task', 'list', '--status', 'verified']);
      assert.equal(verified.tasks.length, 4);
      const sum = (xs: { points: number }[]): number => xs.reduce((s, x) => s + x.points, 0);
      assert.equal(sum(board.agents), sum(verified.tasks), 'the leaderboard adds up to the verified tasks');
    });

    await t.test('a survey from a template reaches everyone, each with their own name', async () => {
      refused(await as(CAPTAIN, ['template', 'set', 'survey', '{agent_id}, rate {cycle}']), 3, 'validation_failed');
      okText(await as(CAPTAIN, ['template', 'set', 'survey', '{agent_id} ({specialty}): rate this cycle 1-5 and name one blocker. -- {sender}']));
      refused(await as(CAPTAIN, ['broadcast', '--template', 'no-such-survey']), 4, 'template_not_found');
      const sent = await json(CAPTAIN, ['broadcast', '--template', 'survey', '--subject', 'Cycle survey']);
      assert.equal(sent.message_ids.length, 7);
      assert.deepEqual([...sent.recipients].sort(), CREW.map((a) => a.id));
    });

    await t.test('swarm wrapup all, then every inbox holds what the cycle sent it', async () => {
      const wrap = okText(await as(CAPTAIN, ['wrapup', 'all']));
      assert.match(wrap, /wrap-up sent to 7 agents/);
      const inboxes = await Promise.all(CREW.map((a) => json(a.id, ['inbox', '--limit', '200'])));
      CREW.forEach((a, i) => {
        const items: any[] = inboxes[i]?.items ?? [];
        const ofType = (type: string) => items.filter((x) => x.message.type === type).map((x) => x.message);
        const [welcome] = ofType('onboarding');
        assert.ok(welcome?.body.includes(a.id), `${a.id} was welcomed by name`);
        if (a.id !== 'Agent-3') assert.deepEqual(ofType('report').map((m) => m.id), [reportId], `${a.id} has the report`);
        assert.deepEqual(ofType('deployment').map((m) => m.id), [deployId], `${a.id} has the deployment notice`);
        const survey = items.filter((x) => x.message.subject === 'Cycle survey').map((x) => x.message.body);
        assert.deepEqual(survey, [`${a.id} (${a.specialty}): rate this cycle 1-5 and name one blocker. -- ${CAPTAIN}`]);
        const wrapups = ofType('status').filter((m) => m.subject === 'Wrap-up');
        assert.equal(wrapups.length, 1, `${a.id} got one wrap-up`);
        assert.match(wrapups[0]?.body ?? '', new RegExp(`^End of cycle, ${a.id}:`));
      });
    });
  });
});
