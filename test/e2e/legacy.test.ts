// `swarm legacy` and the `messaging-cli` bin: every row of the original CLI's flag table run as a
// real process against a real hub, beside the command it maps onto, run as a real process too:
// the same output (ids, tokens and ages aside), the same --json shape, the same exit codes. The
// original swarm's roster (shared/fixtures/original-swarm.json): Agent-4 captains.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { LEGACY_MAPPING } from '../../src/cli/commands/legacy.js';
import { MESSAGING_CLI_BIN } from '../support/paths.js';
import { type CliResult, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, okJson, okText, refused, registerAgents, snapshot, swarm, unusedPort } from './helpers.js';

const AGENTS = ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-5', 'Agent-6', 'Agent-7', 'Agent-8'];
const CAPTAIN = 'Agent-4';

/** Ids, tokens, ages and the caller's own last call differ from one run to the next; the rest must not. */
const norm = (s: string): string =>
  s
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, 'ID')
    .replace(/"last_seen_at": "[^"]+"/g, '"last_seen_at": "T"')
    .replace(/swarm_[A-Za-z0-9_-]{43}/g, 'TOKEN')
    .replace(/\b\d+[smhd] ago\b/g, 'AGO');

/** A JSON document's structure: keys and value types, not values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

/** The same outcome: exit code, stderr, and stdout up to ids, tokens and ages. */
function sameAs(legacy: CliResult, today: CliResult): void {
  assert.equal(legacy.code, today.code, `legacy: ${legacy.stderr}\ntoday: ${today.stderr}`);
  assert.equal(norm(legacy.stderr), norm(today.stderr));
  assert.equal(norm(legacy.stdout), norm(today.stdout));
}

interface Swarm {
  url: string;
  dataDir: string;
  tokens: Record<string, string>;
  /** `swarm ARGS` as AGENT; 'admin': the hub's admin token, found in ./.swarm by the CLI itself. */
  cli: (who: string, args: string[]) => Promise<CliResult>;
  /** `swarm legacy ARGS` as AGENT. */
  legacy: (who: string, args: string[]) => Promise<CliResult>;
  /** `messaging-cli ARGS` (bin/messaging-cli.cjs) as AGENT. */
  mcli: (who: string, args: string[]) => Promise<CliResult>;
}

/** A hub with the original swarm registered, except `leaveOut`. */
async function originalSwarm(t: TestContext, leaveOut: string[] = []): Promise<Swarm> {
  const dir = tempDir();
  const dataDir = join(dir, '.swarm');
  const hub = await spawnHub(dataDir, { cwd: dir });
  t.after(() => hub.kill());
  const tokens = {
    ...(await registerAgents(hub.url, hub.adminToken, [CAPTAIN], 'captain')),
    ...(await registerAgents(hub.url, hub.adminToken, AGENTS.filter((a) => !leaveOut.includes(a)))),
  };
  const env = (who: string): Record<string, string> => (who === 'admin' ? { SWARM_HUB: hub.url } : { SWARM_HUB: hub.url, SWARM_TOKEN: tokens[who] ?? '' });
  return {
    url: hub.url,
    dataDir,
    tokens,
    cli: (who, args) => runCli(args, { env: env(who), cwd: dir }),
    legacy: (who, args) => runCli(['legacy', ...args], { env: env(who), cwd: dir }),
    mcli: (who, args) => runCli(args, { env: env(who), cwd: dir, bin: MESSAGING_CLI_BIN }),
  };
}

async function historyOf(s: Swarm): Promise<any[]> {
  return okJson(await s.cli('admin', ['--json', 'history', '-n', '1000'])).messages;
}

describe('swarm legacy', () => {
  it('teaches the mapping: --help (and a bare call) print every row of the table', async () => {
    const [help, bare, mcliHelp] = await Promise.all([runCli(['legacy', '--help']), runCli(['legacy']), runCli(['--help'], { bin: MESSAGING_CLI_BIN })]);
    const text = okText(help);
    for (const [original, today] of LEGACY_MAPPING) {
      assert.ok(text.includes(original), `help shows ${original}`);
      assert.ok(text.includes(today.replace(/`/g, '')), `help shows ${today}`);
    }
    assert.equal(okText(bare), text);
    assert.equal(okText(mcliHelp), text, 'messaging-cli --help is swarm legacy --help');
  });

  it('sends as swarm send and swarm broadcast do: priorities, types, --sender, obsolete delivery flags', async (t) => {
    const s = await originalSwarm(t);
    // One row, both ways: the human line, then the --json document.
    const [legacyLine, todayLine] = await Promise.all([
      s.legacy('Agent-1', ['--agent', 'Agent-2', '--message', 'Survey done: 14 modules', '--priority', 'urgent', '--type', 'status']),
      s.cli('Agent-1', ['send', 'Agent-2', 'Survey done: 14 modules', '-p', 'urgent', '-t', 'status']),
    ]);
    sameAs(legacyLine, todayLine);
    assert.match(legacyLine.stdout, /^sent [0-9A-Z]{26} \[A2A\] to Agent-2 \(thread [0-9A-Z]{26}\)\n$/);
    const legacyJson = okJson(await s.mcli('Agent-1', ['--json', '-a', 'Agent-2', '-m', 'Ready for review', '--high-priority', '--type', 'agent_to_agent']));
    const todayJson = okJson(await s.cli('Agent-1', ['--json', 'send', 'Agent-2', 'Ready for review', '-p', 'urgent', '-t', 'text']));
    assert.deepEqual(shape(legacyJson), shape(todayJson));
    assert.equal(legacyJson.message.priority, 'urgent', '--high-priority is urgent');
    assert.equal(legacyJson.message.type, 'text', "the original's agent_to_agent is text");
    assert.equal(legacyJson.message.body, 'Ready for review');
    // --high-priority wins over --priority regular, as in the original; regular stays regular.
    const [over, regular] = await Promise.all([
      s.legacy('Agent-1', ['--json', '-a', 'Agent-2', '-m', 'override', '-p', 'regular', '--high-priority']),
      s.legacy('Agent-1', ['--json', '-a', 'Agent-2', '-m', 'plain', '-p', 'regular']),
    ]);
    assert.equal(okJson(over).message.priority, 'urgent');
    assert.equal(okJson(regular).message.priority, 'regular');

    // --bulk is swarm broadcast: the same recipients, the same [C2A-ALL] line.
    const [bulk, broadcast] = await Promise.all([
      s.mcli(CAPTAIN, ['--bulk', '--message', 'SWARM ALERT: stand-up in 5 minutes', '--type', 'broadcast']),
      s.cli(CAPTAIN, ['broadcast', 'SWARM ALERT: stand-up in 5 minutes']),
    ]);
    sameAs(bulk, broadcast);
    assert.match(bulk.stdout, /\[C2A-ALL\] to 7 agents/);
    const bulkJson = okJson(await s.legacy(CAPTAIN, ['--json', '--bulk', '-m', 'second call']));
    assert.deepEqual([...bulkJson.recipients].sort(), AGENTS);
    // An agent may not broadcast: the same refusal either way.
    sameAs(await s.legacy('Agent-1', ['--bulk', '-m', 'everyone!']), await s.cli('Agent-1', ['broadcast', 'everyone!']));

    // --sender: the caller itself, or an agent the caller may act as (the captain for an agent).
    const self = okJson(await s.legacy('Agent-1', ['--json', '--sender', 'Agent-1', '-a', 'Agent-2', '-m', 'from me']));
    assert.equal(self.message.from, 'Agent-1');
    const actedFor = okJson(await s.legacy(CAPTAIN, ['--json', '--sender', 'Agent-3', '-a', 'Agent-2', '-m', 'sent for Agent-3']));
    assert.equal(actedFor.message.from, 'Agent-3');
    const withAs = okJson(await s.legacy(CAPTAIN, ['--json', '--as', 'Agent-3', '--sender', 'Agent-3', '-a', 'Agent-2', '-m', 'both agree']));
    assert.equal(withAs.message.from, 'Agent-3');

    // The obsolete delivery flags: ignored with one stderr line naming the targets; exit 0.
    for (const args of [['--coordinates'], ['--mode', 'pyautogui'], ['--mode', 'inbox', '--no-paste'], ['--new-tab-method', 'ctrl_t']]) {
      const r = await s.legacy('Agent-1', args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^swarm legacy: ignored .*swarm targets add AGENT tmux SESSION:WINDOW\.PANE.*swarm targets add AGENT file DIR\)\n$/);
    }
    const viaMode = await s.mcli('Agent-1', ['--mode', 'pyautogui', '--agent', 'Agent-2', '--message', 'typed no more']);
    assert.equal(viaMode.code, 0);
    assert.match(viaMode.stdout, /^sent [0-9A-Z]{26} \[A2A\] to Agent-2/);
    assert.equal(viaMode.stderr.split('\n').length, 2, 'one stderr line');
    const bodies = (await historyOf(s)).map((m) => m.body);
    assert.ok(bodies.includes('typed no more') && bodies.includes('both agree') && bodies.includes('sent for Agent-3'));
  });

  it('reads the roster, history and task board as swarm agents, history and task do', async (t) => {
    const s = await originalSwarm(t);
    await s.cli(CAPTAIN, ['send', 'Agent-1', 'Start the survey']);
    await s.cli('Agent-2', ['send', 'Agent-3', 'Pairing at 3?']);
    await s.cli('Agent-1', ['status', 'set', 'busy', 'Surveying the services']);
    const add = async (title: string, points: string): Promise<string> => okText(await s.cli('admin', ['-q', 'task', 'add', title, '--points', points])).trim();
    const ids = [
      await add('Consolidate the messaging services', '150'),
      await add('Migrate CI to the new runners', '200'),
      await add('Write the onboarding guide', '75'),
      await add('Set up the reports channel', '50'),
    ];

    for (const [legacyArgs, todayArgs] of [
      [['--list-agents'], ['agents']],
      [['--check-status'], ['agents']],
      [['--json', '--list-agents'], ['--json', 'agents']],
      [['--history'], ['history']],
      [['--history', '--agent', 'Agent-2'], ['history', '--agent', 'Agent-2']],
      [['--json', '--history', '-a', 'Agent-1'], ['--json', 'history', '--agent', 'Agent-1']],
      [['--list-tasks'], ['task', 'list']],
      [['--task-status', ids[0] ?? ''], ['task', 'show', ids[0] ?? '']],
      [['--task-status', '01ARZ3NDEKTSV4RRFFQ69G5FAV'], ['task', 'show', '01ARZ3NDEKTSV4RRFFQ69G5FAV']],
    ] as const) {
      const [legacy, today] = await Promise.all([s.legacy('admin', [...legacyArgs]), s.cli('admin', [...todayArgs])]);
      sameAs(legacy, today);
    }
    assert.match((await s.legacy('admin', ['--check-status'])).stdout, /Agent-1 +agent +busy .*Surveying the services/, 'presence and mission');
    assert.match((await s.legacy('admin', ['--history', '--agent', 'Agent-2'])).stdout, /Pairing at 3\?/);
    refused(await s.legacy('admin', ['--task-status', '01ARZ3NDEKTSV4RRFFQ69G5FAV']), 4, 'task_not_found');

    // --get-next-task --agent A is `task next` as A: claimed by A, whoever's token asks.
    const claimed = /^claimed [0-9A-Z]{26} {2}claimed \((Agent-\d)\) {2}\d+ points {2}.+\n$/;
    const mine = await s.legacy('Agent-3', ['--get-next-task', '--agent', 'Agent-3']);
    assert.equal(claimed.exec(okText(mine))?.[1], 'Agent-3');
    const theirs = await s.cli('Agent-5', ['task', 'next']);
    assert.equal(claimed.exec(okText(theirs))?.[1], 'Agent-5');
    const forAgent6 = okJson(await s.mcli(CAPTAIN, ['--json', '--get-next-task', '--agent', 'Agent-6']));
    assert.equal(forAgent6.task.assignee, 'Agent-6');
    assert.deepEqual(shape(forAgent6), shape(okJson(await s.cli('Agent-7', ['--json', 'task', 'next']))));
    // The board is empty now: exit 4 both ways. Another agent's token may not act as Agent-6: exit 6.
    sameAs(await s.legacy('Agent-6', ['--get-next-task', '--agent', 'Agent-6']), await s.cli('Agent-6', ['task', 'next']));
    refused(await s.legacy('Agent-6', ['--get-next-task', '--agent', 'Agent-6']), 4, 'task_not_found');
    sameAs(await s.legacy('Agent-1', ['--get-next-task', '--agent', 'Agent-6']), await s.cli('Agent-1', ['--as', 'Agent-6', 'task', 'next']));
    refused(await s.legacy('Agent-1', ['--get-next-task', '--agent', 'Agent-6']), 6, 'forbidden');

    // --list-tasks --agent A: A's tasks; --complete-task: task done (as --agent when given).
    sameAs(await s.legacy('Agent-3', ['--list-tasks', '--agent', 'Agent-3']), await s.cli('Agent-3', ['task', 'list', '--mine']));
    const mineId = (await s.cli('Agent-3', ['--json', 'task', 'list', '--mine']).then(okJson)).tasks[0].id as string;
    const theirId = (await s.cli('Agent-5', ['--json', 'task', 'list', '--mine']).then(okJson)).tasks[0].id as string;
    const [done, doneToday] = await Promise.all([s.mcli('Agent-3', ['--complete-task', mineId, '--agent', 'Agent-3']), s.cli('Agent-5', ['task', 'done', theirId])]);
    assert.match(okText(done), new RegExp(`^${mineId} {2}done \\(Agent-3\\) {2}\\d+ points`));
    assert.match(okText(doneToday), new RegExp(`^${theirId} {2}done \\(Agent-5\\) {2}\\d+ points`));
    assert.equal(okJson(await s.legacy(CAPTAIN, ['--json', '--complete-task', forAgent6.task.id, '--agent', 'Agent-6'])).task.status, 'done');
    // Completing a task that is done already: the same conflict either way.
    sameAs(await s.legacy('Agent-3', ['--complete-task', mineId]), await s.cli('Agent-3', ['task', 'done', mineId]));
  });

  it('onboards one agent as swarm onboard does, and sends the onboarding and wrap-up messages to every agent', async (t) => {
    const s = await originalSwarm(t, ['Agent-7', 'Agent-8']);
    const [legacy, today] = await Promise.all([s.legacy('admin', ['--onboard', '--agent', 'Agent-8']), s.cli('admin', ['onboard', 'Agent-7'])]);
    assert.equal(norm(okText(legacy)).replace('Agent-8', 'Agent-7'), norm(okText(today)));
    const agents = okJson(await s.cli('admin', ['--json', 'agents'])).agents.map((a: { id: string }) => a.id);
    assert.ok(agents.includes('Agent-8'));
    s.tokens['Agent-8'] = /token \(shown once, keep it secret\): (swarm_\S+)/.exec(legacy.stdout)?.[1] ?? '';
    // Onboarding an agent that exists: the same conflict.
    sameAs(await s.legacy('admin', ['--onboard', '--agent', 'Agent-8']), await s.cli('admin', ['onboard', 'Agent-8']));

    sameAs(await s.legacy(CAPTAIN, ['--onboarding']), await s.cli(CAPTAIN, ['broadcast', '--template', 'onboarding']));
    sameAs(await s.mcli(CAPTAIN, ['--wrapup']), await s.cli(CAPTAIN, ['wrapup', 'all']));
    assert.match(okText(await s.legacy(CAPTAIN, ['--wrapup'])), /^wrap-up sent to \d+ agents: .*Agent-8/);
    const inbox = okJson(await s.cli('Agent-8', ['--json', 'inbox', '-n', '100']));
    assert.equal(inbox.agent, 'Agent-8');
    const types = inbox.items.map((i: any) => `${i.message.type} ${i.message.subject}`);
    assert.ok(types.includes('onboarding Welcome, Agent-8') && types.includes('status Wrap-up'), `Agent-8's inbox: ${types.join(', ')}`);
  });

  it('refuses bad combinations, and --sender for someone else, with one line and nothing changed', async (t) => {
    const s = await originalSwarm(t);
    await s.cli(CAPTAIN, ['send', 'Agent-1', 'baseline']);
    const taskId = okText(await s.cli('admin', ['-q', 'task', 'add', 'Keep me open', '--points', '10'])).trim();
    const before = snapshot(s.dataDir);
    const boardBefore = okText(await s.cli('admin', ['task', 'list']));
    const historyBefore = await historyOf(s);
    const usage = [
      ['--bulk', '--agent', 'Agent-2', '--message', 'to whom?'],
      ['--agent', 'Agent-2'],
      ['--bulk'],
      ['--agent', 'Agent-2', '--message', '   '],
      ['--message', 'no recipient'],
      ['--list-agents', '--wrapup'],
      ['--agent', 'Agent-3', '--message', 'hi', '--get-next-task'],
      ['--bulk', '--message', 'hi', '--onboarding'],
      ['--get-next-task'],
      ['--onboard'],
      ['--list-agents', '--message', 'stray'],
      ['--wrapup', '--agent', 'Agent-2'],
      ['--complete-task', taskId, '--high-priority'],
      ['--agent', 'Agent-2', '--message', 'hi', '--priority', 'high'],
      ['--agent', 'Agent-2', '--message', 'hi', '--type', 'memo'],
      ['--mode', 'carrier-pigeon'],
      ['--agent', 'Agent-2', '--message', 'hi', '--frobnicate'],
      ['--sender', 'Agent-1'],
      ['--as', 'Agent-2', '--sender', 'Agent-3', '--agent', 'Agent-5', '--message', 'who?'],
      ['--get-next-task', '--agent', 'Agent-3', '--sender', 'Agent-5'],
      ['--agent', 'Agent-2', '--message', 'hi', 'extra-word'],
    ];
    for (const args of usage) refused(await s.legacy(CAPTAIN, args), 2, 'usage');
    // Refused before the hub is asked: the same answers with nothing listening.
    const nowhere = `http://127.0.0.1:${await unusedPort()}`;
    refused(await swarm(nowhere, ['legacy', '--bulk', '--agent', 'Agent-2', '-m', 'x'], { token: s.tokens[CAPTAIN] }), 2, 'usage');

    // --sender S when S is neither the caller nor one it may act as: forbidden, nothing sent.
    for (const [who, sender] of [
      ['Agent-1', 'Agent-4'],
      ['Agent-1', 'Agent-2'],
      [CAPTAIN, 'Agent-9'],
      ['admin', 'Agent-9'],
    ] as const) {
      const line = refused(await s.legacy(who, ['--sender', sender, '--agent', 'Agent-2', '--message', 'spoofed']), 6, 'forbidden');
      assert.ok(line.includes(`--sender ${sender}`), line);
    }
    refused(await s.mcli('Agent-1', ['--sender', 'Agent-4', '--bulk', '--message', 'spoofed to all']), 6, 'forbidden');
    refused(await s.mcli('Agent-1', ['--sender', 'Agent-4', '--mode', 'pyautogui', '--bulk', '--message', 'spoofed to all']), 6, 'forbidden');

    assert.deepEqual(snapshot(s.dataDir), before, 'refused commands stored nothing and changed no delivery');
    assert.deepEqual(await historyOf(s), historyBefore, 'the API shows the same');
    assert.equal(okText(await s.cli('admin', ['task', 'list'])), boardBefore);
    const task = await http(s.url, 'GET', `/v1/tasks/${taskId}`, { token: s.tokens[CAPTAIN] ?? '' });
    assert.equal(task.json.task.status, 'open');
  });
});
