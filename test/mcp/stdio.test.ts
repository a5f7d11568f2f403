// `swarm mcp` over stdio, driven by the official SDK's Client against a real hub: the context it
// costs (tools/list, a 50-message inbox), refusals that name the field and change nothing, one
// agent's identity kept out of another's inbox, resource subscriptions, and a revoked token ending
// the session.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { http, registerAgents, snapshot, swarm, within } from '../e2e/helpers.js';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { call, ok, records, stdioSession, toolError } from './clients.js';

const DEFAULT_TOOLS = ['whoami', 'send', 'reply', 'inbox', 'read', 'ack', 'thread', 'search', 'agents', 'status', 'task_next', 'task_done', 'review', 'report'];

describe('swarm mcp over stdio', () => {
  it('costs little context, refuses bad arguments by field, keeps inboxes apart, notifies, and ends on revocation', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await spawnHub(dataDir, { cwd: dir });
    t.after(() => hub.stop());
    const url = hub.url;
    const tokens = { ...(await registerAgents(url, hub.adminToken, ['Agent-1', 'Agent-2', 'Agent-3'])), ...(await registerAgents(url, hub.adminToken, ['Agent-4'], 'captain')) };
    const s1 = await stdioSession(url, tokens['Agent-1'] ?? '');
    t.after(() => s1.close());
    const a1 = s1.client;

    await t.test('the default tools/list is the 14 tools in at most 12 KB; resources are the inbox and the board', async () => {
      const list = await a1.listTools();
      const bytes = Buffer.byteLength(JSON.stringify(list));
      t.diagnostic(`default tools/list: ${list.tools.length} tools, ${bytes} bytes`);
      assert.deepEqual(list.tools.map((x) => x.name).sort(), [...DEFAULT_TOOLS].sort());
      assert.ok(bytes <= 12 * 1024, `tools/list is ${bytes} bytes`);
      for (const tool of list.tools) assert.ok((tool.description ?? '').length <= 240, `${tool.name}: a short description`);
      const resources = await a1.listResources();
      assert.deepEqual(resources.resources.map((r) => r.uri).sort(), ['swarm://inbox', 'swarm://tasks']);
      assert.equal(a1.getServerCapabilities()?.resources?.subscribe, true);
      const all = await stdioSession(url, tokens['Agent-1'] ?? '', ['--tools', 'all']);
      try {
        const names = (await all.client.listTools()).tools.map((x) => x.name);
        for (const n of ['broadcast', 'nack', 'history', 'channel_post', 'channel_history', 'task_list', 'task_claim', 'task_release', 'leaderboard', 'onboard']) assert.ok(names.includes(n), `--tools all has ${n}`);
      } finally {
        await all.close();
      }
    });

    await t.test('a 50-message inbox is at most 6 KB without full; full carries the bodies', async () => {
      const body = (i: number) => `Status of shard ${i}: the rollout reached 40% of the fleet.\nLatency p99 is 38 ms, error rate 0.02%.\n\n${'Details follow. '.repeat(30)}`;
      for (let i = 0; i < 50; i++) {
        const r = await http(url, 'POST', '/v1/messages', { token: tokens['Agent-3'] ?? '', body: { to: 'Agent-2', subject: `Shard ${i} rollout report for the infrastructure review`, body: body(i) } });
        assert.equal(r.status, 201);
      }
      const s2 = await stdioSession(url, tokens['Agent-2'] ?? '');
      try {
        const compact = await s2.client.callTool({ name: 'inbox', arguments: { limit: 50 } });
        // The whole tools/call result as it crosses the wire (the text escaped inside it).
        const bytes = Buffer.byteLength(JSON.stringify(compact));
        t.diagnostic(`50-message inbox: ${bytes} bytes compact`);
        assert.ok(bytes <= 6 * 1024, `the compact inbox is ${bytes} bytes`);
        const items = records(JSON.parse((compact.content as { text: string }[])[0]?.text ?? ''));
        assert.equal(items.length, 50);
        assert.match(items[0]?.first_lines ?? '', /^Status of shard/);
        assert.match(items[0]?.subject ?? '', /^Shard/);
        const full = await ok(s2.client, 'inbox', { limit: 50, full: true });
        assert.equal(full.messages.length, 50);
        assert.equal(full.messages.find((m: any) => m.subject.startsWith('Shard 0 '))?.body, body(0));
      } finally {
        await s2.close();
      }
    });

    await t.test('invalid arguments are tool errors naming the field, and change nothing', async () => {
      const before = snapshot(dataDir);
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['send', { to: 'Agent-2' }, /\bbody\b/],
        ['send', { to: 'Agent-2', body: 'hi', priority: 'critical' }, /\bpriority\b/],
        ['send', { to: 'Agent-2', body: 'hi', colour: 'red' }, /colour/],
        ['ack', { ids: ['not-an-id'] }, /\bids\b/],
        ['read', { id: 42 }, /\bid\b/],
        ['inbox', { limit: 0 }, /\blimit\b/],
        ['review', { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', action: 'request' }, /\breviewers\b/],
        ['review', { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', action: 'veto' }, /\baction\b/],
        ['status', { status: 'asleep' }, /\bstatus\b/],
      ];
      for (const [name, args, field] of cases) assert.match(await toolError(a1, name, args), field, `${name} ${JSON.stringify(args)}`);
      assert.deepEqual(snapshot(dataDir), before);
    });

    await t.test('an agent’s MCP identity cannot read or ack another agent’s inbox', async () => {
      const sent = await http(url, 'POST', '/v1/messages', { token: tokens['Agent-3'] ?? '', body: { to: 'Agent-2', body: 'for Agent-2 only' } });
      const id = sent.json.message.id as string;
      const before = snapshot(dataDir);
      assert.match(await toolError(a1, 'read', { id }), /message_not_found/);
      assert.match(await toolError(a1, 'ack', { ids: [id] }), /message_not_found|forbidden/);
      const inbox = records(await ok(a1, 'inbox', { limit: 200 }));
      assert.ok(!inbox.some((i) => i.id === id));
      assert.deepEqual(snapshot(dataDir), before, 'Agent-2’s delivery is untouched');
      // Nor may it speak as another agent: refused before the session starts (exit 6).
      const as = await swarm(url, ['--as', 'Agent-2', 'mcp'], { token: tokens['Agent-1'] ?? '' });
      assert.equal(as.code, 6, as.stderr);
      assert.match(as.stderr, /^swarm: forbidden: /);
      assert.equal(as.stdout, '');
    });

    await t.test('subscriptions: the inbox and the board notify on change', async () => {
      const updated: string[] = [];
      a1.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
      await a1.subscribeResource({ uri: 'swarm://inbox' });
      await a1.subscribeResource({ uri: 'swarm://tasks' });
      await new Promise((r) => setTimeout(r, 300));
      const seen = (uri: string) =>
        within(8000, `a resources/updated for ${uri}`, (async () => {
          while (!updated.includes(uri)) await new Promise((r) => setTimeout(r, 50));
        })());
      await http(url, 'POST', '/v1/messages', { token: tokens['Agent-3'] ?? '', body: { to: 'Agent-1', body: 'ping' } });
      await seen('swarm://inbox');
      const inbox = records(JSON.parse(((await a1.readResource({ uri: 'swarm://inbox' })).contents[0] as { text: string }).text));
      assert.ok(inbox.some((i) => i.first_lines === 'ping'));
      await http(url, 'POST', '/v1/tasks', { token: tokens['Agent-4'] ?? '', body: { title: 'Rotate the certificates', points: 10 } });
      await seen('swarm://tasks');
    });

    await t.test('a revoked token ends the session: the call answers unauthorized, then the process exits 5', async () => {
      const list = await http(url, 'GET', '/v1/tokens?agent=Agent-1', { token: hub.adminToken });
      for (const tok of list.json.tokens) assert.equal((await http(url, 'DELETE', `/v1/tokens/${tok.id}`, { token: hub.adminToken })).status, 200);
      const r = await call(a1, 'inbox', {});
      assert.equal(r.isError, true);
      assert.match(r.text, /unauthorized/);
      await within(5000, 'the swarm mcp process ending', s1.closed);
      assert.match(s1.stderr(), /^swarm: unauthorized: /m);
    });
  });
});
