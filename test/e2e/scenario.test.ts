// The swarm's story end to end, as its members would live it: a real `swarm serve` process and one
// real `swarm` process per command. Agent-4 captains; Agent-1 and Agent-2 talk, reply, ack and
// report; every refusal is one stderr line, a documented exit code and no change to stored data.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { type CliResult, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { okJson, okText, REPORT_FIXTURE, refused, registerAgents, http, snapshot, swarm, unusedPort } from './helpers.js';

// From the original swarm's roster (shared/fixtures/original-swarm.json).
const SPECIALTY = {
  'Agent-1': 'Integration & Core Systems',
  'Agent-2': 'Architecture & Design',
  'Agent-4': 'Strategic Oversight & Emergency Intervention',
} as const;

describe('the CLI without a hub', () => {
  it('prints help for no arguments and documents every exit code', async () => {
    const [bare, codes, helpSend] = await Promise.all([runCli([]), runCli(['help', 'exit-codes']), runCli(['help', 'send'])]);
    const help = okText(bare);
    assert.match(help, /Usage: swarm/);
    for (const cmd of ['serve', 'send', 'broadcast', 'inbox', 'read', 'ack', 'thread', 'history', 'agents', 'status', 'onboard', 'wrapup', 'config']) {
      assert.match(help, new RegExp(`\\n\\s+${cmd}\\b`), `help lists ${cmd}`);
    }
    const table = okText(codes);
    for (const row of EXIT_CODES) {
      assert.match(table, new RegExp(`^${row.exit}\\s+${row.meaning.slice(0, 20).replace(/[()]/g, '\\$&')}`, 'm'), `exit ${row.exit} is listed`);
      for (const code of row.codes) assert.ok(table.includes(code), `${code} is listed`);
    }
    assert.match(okText(helpSend), /--reply-to/);
  });

  it('refuses unknown commands and bad flag values with exit 2 and one usage line', async () => {
    const results = await Promise.all([
      runCli(['frobnicate']),
      runCli(['inbox', '--limit', 'abc']),
      runCli(['send', 'Agent-2', 'hello', '--priority', 'critical']),
      runCli(['inbox', '--no-such-flag']),
      runCli(['send', 'Agent-2']),
      runCli(['send', 'Agent-2', 'words', '--file', '-']),
      runCli(['status', 'set', 'sleeping']),
      runCli(['help', 'no-such-topic']),
      runCli(['serve', '--role', 'bogus']),
    ]);
    for (const r of results) refused(r, 2, 'usage');
    assert.match(results[0]?.stderr ?? '', /frobnicate/);
    assert.match(results[2]?.stderr ?? '', /critical/);
  });

  it('says the hub is unreachable with exit 8 when nothing listens', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const [inbox, send] = await Promise.all([
      swarm(url, ['inbox'], { token: 'swarm_nobody' }),
      swarm(url, ['--json', 'send', 'Agent-2', 'anyone there?'], { token: 'swarm_nobody' }),
    ]);
    assert.match(refused(inbox, 8, 'hub_unreachable'), new RegExp(url.replace(/\./g, '\\.')));
    refused(send, 8, 'hub_unreachable');
  });
});

describe('the swarm story', () => {
  it('registers, onboards, messages, replies, acks, searches, broadcasts, wraps up and reports', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await spawnHub(dataDir, { cwd: dir });
    t.after(() => hub.kill());
    const url = hub.url;
    // Run from `dir`, the CLI finds the admin token in ./.swarm/admin.token without being told.
    const asAdmin = (args: string[]) => swarm(url, args, { cwd: dir });
    const tokens: Record<string, string> = {};
    const as = (agent: string, args: string[], input?: string) => swarm(url, args, { token: tokens[agent] ?? '', cwd: dir, input });
    let regularId = '';
    let urgentId = '';
    let replyId = '';

    await t.test('the admin registers the captain; -q prints only the token', async () => {
      const out = okText(await asAdmin(['agents', 'add', 'Agent-4', '--role', 'captain', '--specialty', SPECIALTY['Agent-4'], '-q']));
      assert.match(out, /^swarm_\S+\n$/);
      tokens['Agent-4'] = out.trim();
    });

    await t.test('the captain onboards Agent-1 and Agent-2, each with a welcome message', async () => {
      const [a1, a2] = await Promise.all(
        (['Agent-1', 'Agent-2'] as const).map((id) => as('Agent-4', ['onboard', id, '--specialty', SPECIALTY[id], '--json']).then(okJson)),
      );
      for (const [id, r] of [['Agent-1', a1], ['Agent-2', a2]] as const) {
        assert.equal(r.agent.id, id);
        assert.equal(r.agent.role, 'agent');
        assert.equal(r.agent.specialty, SPECIALTY[id]);
        assert.match(r.token, /^swarm_/);
        assert.match(r.message_id, /^[0-9A-Z]{26}$/);
        tokens[id] = r.token;
      }
      const welcome = okJson(await as('Agent-1', ['read', a1.message_id, '--json']));
      assert.equal(welcome.message.type, 'onboarding');
      assert.equal(welcome.message.from, 'Agent-4');
      assert.match(welcome.message.body, /Agent-1/);
    });

    await t.test('Agent-1 sends a regular then an urgent message; Agent-2 sees the urgent one first', async () => {
      const regular = okJson(await as('Agent-1', ['send', 'Agent-2', 'Please review the deploy script before Friday', '--json']));
      const urgent = okJson(await as('Agent-1', ['send', 'Agent-2', 'Production gateway is down, need a hand now', '--priority', 'urgent', '--json']));
      regularId = regular.message.id;
      urgentId = urgent.message.id;
      assert.equal(urgent.message.kind, 'A2A');
      assert.equal(urgent.message.priority, 'urgent');
      assert.deepEqual(urgent.recipients, ['Agent-2']);

      const [inboxJson, inboxText] = await Promise.all([as('Agent-2', ['inbox', '--json']), as('Agent-2', ['inbox'])]);
      const items = okJson(inboxJson).items as any[];
      assert.equal(items[0]?.message.id, urgentId, 'urgent first, though sent last');
      assert.ok(items.some((i) => i.message.id === regularId));
      const lines = okText(inboxText).split('\n');
      const urgentLine = lines.findIndex((l) => l.includes(urgentId));
      const regularLine = lines.findIndex((l) => l.includes(regularId));
      assert.ok(urgentLine > 0 && regularLine > urgentLine, inboxText.stdout);
      assert.match(lines[urgentLine] ?? '', /\[A2A\].*Agent-1.*urgent/);
    });

    await t.test('Agent-2 reads, replies in the thread and acks', async () => {
      const read = okJson(await as('Agent-2', ['read', urgentId, '--json']));
      assert.equal(read.message.body, 'Production gateway is down, need a hand now');
      assert.equal(read.delivery.state, 'read');
      const [reply, ack] = await Promise.all([
        as('Agent-2', ['send', 'Agent-1', 'On it: rolling back the canary release', '--reply-to', urgentId, '--json']).then(okJson),
        as('Agent-2', ['ack', urgentId, '--json']).then(okJson),
      ]);
      replyId = reply.message.id;
      assert.equal(reply.message.reply_to, urgentId);
      assert.equal(reply.message.thread_id, read.message.thread_id);
      assert.deepEqual(ack.acked, [urgentId]);
      const [inbox2, inbox1] = await Promise.all([as('Agent-2', ['inbox', '--json']).then(okJson), as('Agent-1', ['inbox', '--json']).then(okJson)]);
      assert.ok(!inbox2.items.some((i: any) => i.message.id === urgentId), 'an acked message leaves the inbox');
      assert.ok(inbox2.items.some((i: any) => i.message.id === regularId));
      assert.ok(inbox1.items.some((i: any) => i.message.id === replyId));
    });

    await t.test('history finds the reply by a word in it; thread shows the conversation', async () => {
      const [hist, miss, threadJson, threadText] = await Promise.all([
        as('Agent-1', ['history', '--search', 'canary', '--json']).then(okJson),
        as('Agent-1', ['history', '--search', 'kubernetes', '--json']).then(okJson),
        as('Agent-2', ['thread', urgentId, '--json']).then(okJson),
        as('Agent-2', ['thread', replyId]).then(okText),
      ]);
      assert.deepEqual(
        hist.messages.map((m: any) => m.id),
        [replyId],
      );
      assert.deepEqual(miss.messages, []);
      assert.deepEqual(
        threadJson.messages.map((m: any) => m.id),
        [urgentId, replyId],
      );
      assert.match(threadText, /Production gateway is down/);
      assert.match(threadText, /rolling back the canary release/);
      assert.match(threadText, /\[A2A\] Agent-2 → Agent-1/);
    });

    await t.test('an agent may not read another agent’s inbox: exit 6, one line, nothing changed', async () => {
      const before = snapshot(dataDir);
      const line = refused(await as('Agent-1', ['--as', 'Agent-2', 'inbox']), 6, 'forbidden');
      assert.match(line, /Agent-1/);
      assert.deepEqual(snapshot(dataDir), before);
      // The captain speaks for plain agents.
      const forAgent2 = okJson(await as('Agent-4', ['--as', 'Agent-2', 'inbox', '--json']));
      assert.equal(forAgent2.agent, 'Agent-2');
      assert.ok(forAgent2.items.some((i: any) => i.message.id === regularId));
    });

    await t.test('the captain’s broadcast reaches every agent, tagged C2A-ALL', async () => {
      const b = okJson(await as('Agent-4', ['broadcast', 'Deploy freeze from 18:00 UTC', '--priority', 'high', '--json']));
      assert.equal(b.message.kind, 'C2A-ALL');
      for (const id of ['Agent-1', 'Agent-2']) assert.ok(b.recipients.includes(id), `${id} is a recipient`);
      const inboxes = await Promise.all(['Agent-1', 'Agent-2'].map((id) => as(id, ['inbox', '--json']).then(okJson)));
      for (const inbox of inboxes) {
        const item = inbox.items.find((i: any) => i.message.id === b.message.id);
        assert.ok(item, `the broadcast is in ${inbox.agent}'s inbox`);
        assert.equal(item.message.kind, 'C2A-ALL');
      }
      const text = okText(await as('Agent-1', ['inbox']));
      assert.match(text.split('\n').find((l) => l.includes(b.message.id)) ?? '', /\[C2A-ALL\]/);
    });

    await t.test('wrapup all reaches every agent', async () => {
      const w = okJson(await as('Agent-4', ['wrapup', 'all', '--json']));
      for (const id of ['Agent-1', 'Agent-2']) assert.ok(w.recipients.includes(id), `${id} got the wrap-up`);
      const inboxes = await Promise.all(['Agent-1', 'Agent-2'].map((id) => as(id, ['inbox', '--json']).then(okJson)));
      for (const inbox of inboxes) {
        const mine = inbox.items.filter((i: any) => w.message_ids.includes(i.message.id));
        assert.equal(mine.length, 1, `one wrap-up for ${inbox.agent}`);
        assert.match(mine[0].message.body, new RegExp(inbox.agent));
      }
    });

    await t.test('status set shows up in the roster', async () => {
      okText(await as('Agent-1', ['status', 'set', 'busy', 'Reviewing PR 42']));
      const [roster, table] = await Promise.all([as('Agent-2', ['agents', '--json']).then(okJson), as('Agent-2', ['agents']).then(okText)]);
      const a1 = roster.agents.find((a: any) => a.id === 'Agent-1');
      assert.equal(a1.presence, 'busy');
      assert.equal(a1.mission, 'Reviewing PR 42');
      assert.match(table.split('\n').find((l) => l.startsWith('Agent-1')) ?? '', /busy.*Reviewing PR 42/);
    });

    await t.test('a report from a file, and a message from stdin, come back byte for byte', async () => {
      const report = readFileSync(REPORT_FIXTURE);
      const stdinBody = 'Piped from stdin: déploiement terminé ✅ 🚀\n\ttabs, "quotes", trailing spaces  \n';
      const [fromFile, fromStdin] = await Promise.all([
        as('Agent-2', ['send', 'Agent-1', '--file', REPORT_FIXTURE, '--type', 'report', '--subject', 'Infra status', '--json']).then(okJson),
        as('Agent-2', ['send', 'Agent-1', '--file', '-', '--json'], stdinBody).then(okJson),
      ]);
      assert.equal(fromFile.message.type, 'report');
      const [readReport, readStdin] = await Promise.all([
        as('Agent-1', ['read', fromFile.message.id, '--json']).then(okJson),
        as('Agent-1', ['read', fromStdin.message.id, '--json']).then(okJson),
      ]);
      assert.ok(Buffer.from(readReport.message.body, 'utf8').equals(report), 'report body is byte-identical');
      assert.equal(readReport.message.type, 'report');
      assert.equal(readReport.message.subject, 'Infra status');
      assert.equal(readStdin.message.body, stdinBody);
    });
  });
});

describe('refused commands', () => {
  it('exit with the documented code, print one stderr line and change nothing', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await spawnHub(dataDir, { cwd: dir });
    t.after(() => hub.kill());
    const tokens = { ...(await registerAgents(hub.url, hub.adminToken, ['Agent-1', 'Agent-2'])), ...(await registerAgents(hub.url, hub.adminToken, ['Agent-4'], 'captain')) };
    const sent = await http(hub.url, 'POST', '/v1/messages', { token: tokens['Agent-2'] ?? '', body: { to: 'Agent-1', body: 'status?' } });
    assert.equal(sent.status, 201);
    const msgId = sent.json.message.id as string;
    const absent = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    const as = (agent: string, args: string[]) => swarm(hub.url, args, { token: (tokens as Record<string, string>)[agent] ?? '' });
    const tooBig = join(dir, 'too-big.md');
    writeFileSync(tooBig, 'x'.repeat(1024 * 1024 + 1));
    const before = snapshot(dataDir);

    const cases: [Promise<CliResult>, number, string][] = [
      [as('Agent-1', ['--as', 'Agent-2', 'inbox']), 6, 'forbidden'],
      [as('Agent-1', ['--as', 'Agent-2', 'ack', msgId]), 6, 'forbidden'],
      [as('Agent-1', ['broadcast', 'everyone listen to me']), 6, 'forbidden'],
      [as('Agent-1', ['agents', 'add', 'Agent-9']), 6, 'forbidden'],
      [as('Agent-1', ['wrapup', 'all']), 6, 'forbidden'],
      [as('Agent-4', ['agents', 'add', 'Agent-8', '--role', 'admin']), 6, 'forbidden'],
      [swarm(hub.url, ['send', 'Agent-2', 'hi'], { token: 'swarm_not-a-real-token' }), 5, 'unauthorized'],
      [swarm(hub.url, ['--json', 'inbox'], { token: 'swarm_not-a-real-token' }), 5, 'unauthorized'],
      [as('Agent-1', ['send', 'Agent-99', 'hello?']), 4, 'unknown_recipient'],
      [as('Agent-1', ['--json', 'send', 'Agent-2,Agent-99', 'half of this must not arrive']), 4, 'unknown_recipient'],
      [as('Agent-1', ['ack', msgId, absent]), 4, 'message_not_found'],
      [as('Agent-2', ['read', msgId]), 4, 'message_not_found'],
      [as('Agent-1', ['send', 'Agent-2', 'hi', '--priority', 'critical']), 2, 'usage'],
      [as('Agent-1', ['send', 'Agent-2', '--file', tooBig]), 3, 'payload_too_large'],
      [as('Agent-1', ['send', 'Agent-2', '--file', join(dir, 'no-such-file.md')]), 2, 'usage'],
      [as('Agent-1', ['read', 'not-an-id']), 3, 'validation_failed'],
      [swarm(hub.url, ['agents', 'add', 'Agent-1'], { cwd: dir }), 7, 'agent_exists'],
    ];
    const results = await Promise.all(cases.map(([p]) => p));
    results.forEach((r, i) => refused(r, cases[i]?.[1] ?? -1, cases[i]?.[2] ?? ''));
    assert.deepEqual(snapshot(dataDir), before, 'refused commands stored nothing and changed no delivery');
  });
});
