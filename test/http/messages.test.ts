// Sending, inbox, read, ack, threads, history and long-polls over the HTTP API (in-process).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeCounts } from '../support/db.js';
import { startTestApp } from '../support/app.js';
import { assertProblem, inboxIds, sendOk, UNKNOWN_ID } from './expect.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('send', () => {
  it('to one agent: 201 with the full message shape, delivered to that agent only', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const r = await h.call('POST', '/v1/messages', {
      token: a1,
      body: { to: 'Agent-2', body: 'please review PR 12', subject: 'Review', type: 'review', priority: 'high', tags: ['pr', 'ci'], metadata: { pr: 12, repo: 'swarm' } },
    });
    assert.equal(r.status, 201, r.body);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.json.duplicate, false);
    assert.deepEqual(r.json.recipients, ['Agent-2']);
    const m = r.json.message;
    assert.match(m.id, ULID);
    assert.equal(m.from, 'Agent-1');
    assert.deepEqual(m.to, ['Agent-2']);
    assert.equal(m.kind, 'A2A');
    assert.equal(m.type, 'review');
    assert.equal(m.priority, 'high');
    assert.equal(m.subject, 'Review');
    assert.equal(m.body, 'please review PR 12');
    assert.deepEqual(m.tags, ['pr', 'ci']);
    assert.equal(m.thread_id, m.id, 'a new message starts its own thread');
    assert.equal(m.reply_to, null);
    assert.deepEqual(m.metadata, { pr: 12, repo: 'swarm' });
    assert.ok(!Number.isNaN(Date.parse(m.created_at)));
    assert.equal(m.expires_at, null);

    assert.deepEqual(await inboxIds(h, a2), [m.id]);
    assert.deepEqual(await inboxIds(h, a3), []);
    assert.deepEqual(await inboxIds(h, a1), [], 'the sender gets no copy');
    const c = await storeCounts(h);
    assert.equal(c.messages, 1);
    assert.equal(c.deliveries, 1);
  });

  it('applies defaults: type text, priority regular, empty subject, tags and metadata', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const { message: m } = await sendOk(h, a1, { to: 'Agent-2', body: 'hi' });
    assert.equal(m.type, 'text');
    assert.equal(m.priority, 'regular');
    assert.equal(m.subject, '');
    assert.deepEqual(m.tags, []);
    assert.deepEqual(m.metadata, {});
  });

  it('keeps an expiry in the future', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const { message: m } = await sendOk(h, a1, { to: 'Agent-2', body: 'soon stale', expires_at: expires });
    assert.equal(Date.parse(m.expires_at), Date.parse(expires));
  });

  it('to a comma list: one message, one delivery per named agent', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const a4 = await h.addAgent('Agent-4');
    const r = await sendOk(h, a1, { to: 'Agent-2, Agent-3', body: 'standup in 5' });
    assert.deepEqual(r.message.to, ['Agent-2', 'Agent-3']);
    assert.deepEqual([...r.recipients].sort(), ['Agent-2', 'Agent-3']);
    assert.deepEqual(await inboxIds(h, a2), [r.message.id]);
    assert.deepEqual(await inboxIds(h, a3), [r.message.id]);
    assert.deepEqual(await inboxIds(h, a4), []);
    assert.deepEqual((await storeCounts(h)).deliveries, 2);
  });

  it('to an array (duplicates collapse to one delivery each)', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const r = await sendOk(h, a1, { to: ['Agent-3', 'Agent-2', 'Agent-3'], body: 'array' });
    assert.deepEqual(r.message.to, ['Agent-3', 'Agent-2']);
    assert.deepEqual([...r.recipients].sort(), ['Agent-2', 'Agent-3']);
    assert.deepEqual(await inboxIds(h, a2), [r.message.id]);
    assert.deepEqual(await inboxIds(h, a3), [r.message.id]);
    assert.equal((await storeCounts(h)).deliveries, 2);
  });

  it('broadcast to all by a captain reaches every agent and captain except the sender, not admins', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    const cap2 = await h.addAgent('captain-2', 'captain');
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const root = await h.addAgent('root', 'admin');
    const r = await sendOk(h, cap, { to: 'all', body: 'deploy freeze at 17:00', type: 'deployment' });
    assert.equal(r.message.kind, 'C2A-ALL');
    assert.deepEqual(r.message.to, ['all']);
    assert.deepEqual([...r.recipients].sort(), ['Agent-1', 'Agent-2', 'captain-2']);
    for (const tok of [cap2, a1, a2]) assert.deepEqual(await inboxIds(h, tok), [r.message.id]);
    for (const tok of [cap, root, h.adminToken]) assert.deepEqual(await inboxIds(h, tok), []);
    assert.equal((await storeCounts(h)).deliveries, 3);
  });

  it('broadcast to all by an admin reaches agents and captains, tagged H2A', async (t) => {
    const h = await startTestApp(t);
    await h.addAgent('captain', 'captain');
    await h.addAgent('Agent-1');
    await h.addAgent('root', 'admin');
    const r = await sendOk(h, h.adminToken, { to: 'all', body: 'maintenance tonight' });
    assert.equal(r.message.kind, 'H2A');
    assert.deepEqual([...r.recipients].sort(), ['Agent-1', 'captain']);
  });

  it('derives the kind tag from sender and recipient roles', async (t) => {
    const h = await startTestApp(t);
    const cap = await h.addAgent('captain', 'captain');
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const ana = await h.addAgent('human:ana');
    const kindOf = async (token: string, to: string | string[]): Promise<string> => (await sendOk(h, token, { to, body: 'x' })).message.kind;
    assert.equal(await kindOf(a1, 'Agent-2'), 'A2A');
    assert.equal(await kindOf(a1, 'captain'), 'A2C');
    assert.equal(await kindOf(a1, ['captain', 'Agent-2']), 'A2A', 'mixed recipients are not A2C');
    assert.equal(await kindOf(cap, 'Agent-1'), 'C2A');
    assert.equal(await kindOf(cap, 'all'), 'C2A-ALL');
    assert.equal(await kindOf(h.adminToken, 'Agent-1'), 'H2A');
    assert.equal(await kindOf(ana, 'Agent-1'), 'H2A');
  });
});

describe('inbox', () => {
  it('lists urgent first, then by priority, then oldest first', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const ids: Record<string, string> = {};
    for (const [name, priority] of [
      ['r1', 'regular'],
      ['u1', 'urgent'],
      ['l1', 'low'],
      ['u2', 'urgent'],
      ['r2', 'regular'],
      ['h1', 'high'],
    ] as const) {
      ids[name] = (await sendOk(h, a1, { to: 'Agent-2', body: name, priority })).message.id;
    }
    assert.deepEqual(await inboxIds(h, a2), ['u1', 'u2', 'h1', 'r1', 'r2', 'l1'].map((n) => ids[n]));
  });

  it('unread, all and limit select what the list shows; listing marks delivered', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'one' })).message.id;
    const m2 = (await sendOk(h, a1, { to: 'Agent-2', body: 'two' })).message.id;
    const m3 = (await sendOk(h, a1, { to: 'Agent-2', body: 'three' })).message.id;

    const first = await h.call('GET', '/v1/inbox', { token: a2 });
    assert.equal(first.status, 200);
    assert.equal(first.json.agent, 'Agent-2');
    for (const item of first.json.items) {
      assert.equal(item.delivery.recipient, 'Agent-2');
      assert.equal(item.delivery.state, 'delivered');
      assert.ok(item.delivery.delivered_at !== null);
      assert.equal(item.delivery.read_at, null);
      assert.equal(item.delivery.acked_at, null);
    }

    assert.equal((await h.call('POST', `/v1/messages/${m1}/read`, { token: a2 })).status, 200);
    assert.equal((await h.call('POST', '/v1/ack', { token: a2, body: { ids: [m2] } })).status, 200);

    assert.deepEqual(await inboxIds(h, a2), [m1, m3], 'default: not yet acknowledged');
    assert.deepEqual(await inboxIds(h, a2, '?unread=true'), [m3], 'unread: neither read nor acked');
    assert.deepEqual(await inboxIds(h, a2, '?unread=1'), [m3]);
    assert.deepEqual(await inboxIds(h, a2, '?all=true'), [m1, m2, m3], 'all: acked too');
    assert.deepEqual(await inboxIds(h, a2, '?all=true&limit=2'), [m1, m2]);
    assert.deepEqual(await inboxIds(h, a2, '?limit=1'), [m1]);

    const all = await h.call('GET', '/v1/inbox?all=true', { token: a2 });
    const states = Object.fromEntries(all.json.items.map((i: any) => [i.message.id, i.delivery.state]));
    assert.deepEqual(states, { [m1]: 'read', [m2]: 'acked', [m3]: 'delivered' });
  });

  it('read returns the message and marks its delivery read (reading twice is harmless)', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m = (await sendOk(h, a1, { to: 'Agent-2', body: 'read me' })).message;
    const r = await h.call('POST', `/v1/messages/${m.id}/read`, { token: a2 });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.message.id, m.id);
    assert.equal(r.json.message.body, 'read me');
    assert.equal(r.json.delivery.state, 'read');
    assert.ok(r.json.delivery.read_at !== null);
    assert.ok(r.json.delivery.delivered_at !== null);
    assert.equal((await storeCounts(h)).read, 1);
    const again = await h.call('POST', `/v1/messages/${m.id}/read`, { token: a2 });
    assert.equal(again.status, 200);
    assert.equal(again.json.delivery.read_at, r.json.delivery.read_at);
    assert.equal((await storeCounts(h)).read, 1);
  });

  it('ack is idempotent: a second ack reports the ids as already acknowledged', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'one' })).message.id;
    const m2 = (await sendOk(h, a1, { to: 'Agent-2', body: 'two' })).message.id;
    const first = await h.call('POST', '/v1/ack', { token: a2, body: { ids: [m1, m2] } });
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(first.json, { acked: [m1, m2], already: [] });
    assert.equal((await storeCounts(h)).acked, 2);
    const second = await h.call('POST', '/v1/ack', { token: a2, body: { ids: [m1, m2] } });
    assert.equal(second.status, 200);
    assert.deepEqual(second.json, { acked: [], already: [m1, m2] });
    assert.equal((await storeCounts(h)).acked, 2);
    assert.deepEqual(await inboxIds(h, a2), []);
  });

  it('ack is all or nothing: one unknown id refuses the lot with 404 and acks nothing', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'one' })).message.id;
    const before = await storeCounts(h);
    const r = await h.call('POST', '/v1/ack', { token: a2, body: { ids: [m1, UNKNOWN_ID] } });
    assertProblem(r, 404, 'message_not_found');
    assert.deepEqual(await storeCounts(h), before);
    assert.equal(before.acked, 0);
    assert.deepEqual(await inboxIds(h, a2), [m1]);
  });
});

describe('GET /v1/messages/:id', () => {
  it('returns the message and its recipients to the sender and to a recipient', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    await h.addAgent('Agent-3');
    const m = (await sendOk(h, a1, { to: 'Agent-2,Agent-3', body: 'look' })).message;
    for (const tok of [a1, a2, h.adminToken]) {
      const r = await h.call('GET', `/v1/messages/${m.id}`, { token: tok });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json.message, m);
      assert.deepEqual(r.json.recipients, ['Agent-2', 'Agent-3']);
    }
    assertProblem(await h.call('GET', `/v1/messages/${UNKNOWN_ID}`, { token: a1 }), 404, 'message_not_found');
  });
});

describe('threads', () => {
  it('a reply joins the parent’s thread; the thread view lists it oldest first', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'question' })).message;
    const r1 = (await sendOk(h, a2, { to: 'Agent-1', body: 'answer', reply_to: m1.id })).message;
    assert.equal(r1.thread_id, m1.id);
    assert.equal(r1.reply_to, m1.id);
    const r2 = (await sendOk(h, a1, { to: 'Agent-2', body: 'thanks', reply_to: r1.id, thread_id: m1.id })).message;
    assert.equal(r2.thread_id, m1.id, 'a matching thread_id is accepted');
    const other = (await sendOk(h, a1, { to: 'Agent-2', body: 'unrelated' })).message;

    for (const from of [m1.id, r1.id, r2.id]) {
      const th = await h.call('GET', `/v1/threads/${from}`, { token: a2 });
      assert.equal(th.status, 200, th.body);
      assert.deepEqual(
        th.json.messages.map((x: any) => x.id),
        [m1.id, r1.id, r2.id],
      );
    }
    const alone = await h.call('GET', `/v1/threads/${other.id}`, { token: a1 });
    assert.deepEqual(
      alone.json.messages.map((x: any) => x.id),
      [other.id],
    );
  });

  it('refuses a thread_id that is not the thread of reply_to (400), storing nothing', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'one' })).message;
    const m2 = (await sendOk(h, a1, { to: 'Agent-2', body: 'two' })).message;
    const before = await storeCounts(h);
    const r = await h.call('POST', '/v1/messages', { token: a2, body: { to: 'Agent-1', body: 'reply', reply_to: m1.id, thread_id: m2.id } });
    assertProblem(r, 400, 'validation_failed');
    assert.deepEqual(await storeCounts(h), before);
  });

  it('refuses a reply_to that names no message (404), storing nothing', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const before = await storeCounts(h);
    assertProblem(await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'x', reply_to: UNKNOWN_ID } }), 404, 'message_not_found');
    assertProblem(await h.call('GET', `/v1/threads/${UNKNOWN_ID}`, { token: a1 }), 404, 'message_not_found');
    assert.deepEqual(await storeCounts(h), before);
  });
});

describe('history', () => {
  it('filters by agent, since and type, newest first, with a limit', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const a3 = await h.addAgent('Agent-3');
    const m1 = (await sendOk(h, a1, { to: 'Agent-2', body: 'first', type: 'report' })).message;
    const m2 = (await sendOk(h, a2, { to: 'Agent-3', body: 'second' })).message;
    await new Promise((r) => setTimeout(r, 5));
    const m3 = (await sendOk(h, a3, { to: 'Agent-1', body: 'third', type: 'report' })).message;
    const ids = async (query: string): Promise<string[]> => {
      const r = await h.call('GET', `/v1/history${query}`);
      assert.equal(r.status, 200, r.body);
      return r.json.messages.map((m: any) => m.id);
    };
    assert.deepEqual(await ids(''), [m3.id, m2.id, m1.id]);
    assert.deepEqual(await ids('?limit=2'), [m3.id, m2.id]);
    assert.deepEqual(await ids('?agent=Agent-2'), [m2.id, m1.id], 'sent or received by the agent');
    assert.deepEqual(await ids('?type=report'), [m3.id, m1.id]);
    assert.deepEqual(await ids(`?since=${encodeURIComponent(m3.created_at)}`), [m3.id]);
    assert.deepEqual(await ids(`?since=${encodeURIComponent(m1.created_at)}`), [m3.id, m2.id, m1.id]);
    assert.deepEqual(await ids('?agent=Agent-1&type=report'), [m3.id, m1.id]);
  });

  it('searches subject and body with full-text search', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const deploy = (await sendOk(h, a1, { to: 'Agent-2', body: 'the deployment of build 42 is done' })).message;
    const subj = (await sendOk(h, a1, { to: 'Agent-2', subject: 'Kubernetes upgrade', body: 'see subject' })).message;
    await sendOk(h, a1, { to: 'Agent-2', body: 'lunch?' });
    const ids = async (search: string): Promise<string[]> => {
      const r = await h.call('GET', `/v1/history?search=${encodeURIComponent(search)}`);
      assert.equal(r.status, 200, `search ${search}: ${r.status} ${r.body}`);
      return r.json.messages.map((m: any) => m.id);
    };
    assert.deepEqual(await ids('deployment'), [deploy.id]);
    assert.deepEqual(await ids('build 42'), [deploy.id]);
    assert.deepEqual(await ids('kubernetes'), [subj.id]);
    assert.deepEqual(await ids('nothing-like-this'), []);
  });

  it('takes search text with FTS operators, quotes and brackets literally (never a 5xx)', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    const tricky = (await sendOk(h, a1, { to: 'Agent-2', body: 'say "foo AND OR ( bar' })).message;
    for (const search of ['"foo', 'AND OR (', 'foo"bar', 'NEAR(a b)', '*', 'body:foo', '-foo', '^foo', 'a OR', '"', ')', "it's", 'NOT', '{body}: x', '\\', 'a\u0000b', '\u0000']) {
      const r = await h.call('GET', `/v1/history?search=${encodeURIComponent(search)}`);
      assert.equal(r.status, 200, `search ${JSON.stringify(search)}: ${r.status} ${r.body}`);
      assert.ok(Array.isArray(r.json.messages));
    }
    const r = await h.call('GET', `/v1/history?search=${encodeURIComponent('"foo AND OR (')}`);
    assert.deepEqual(
      r.json.messages.map((m: any) => m.id),
      [tricky.id],
    );
  });
});

describe('long-poll', () => {
  it('GET /v1/inbox?wait answers as soon as a message arrives', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    const started = Date.now();
    const poll = h.call('GET', '/v1/inbox?wait=10', { token: a2 });
    await new Promise((r) => setTimeout(r, 200));
    const m = (await sendOk(h, a1, { to: 'Agent-2', body: 'wake up' })).message;
    const r = await poll;
    const elapsed = Date.now() - started;
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      r.json.items.map((i: any) => i.message.id),
      [m.id],
    );
    assert.ok(elapsed < 5000, `the long-poll held on for ${elapsed} ms after the send`);
  });

  it('answers an empty list once the wait is over when nothing arrives', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    const a2 = await h.addAgent('Agent-2');
    // A message to someone else must not wake this poll with someone else's mail.
    const started = Date.now();
    const poll = h.call('GET', '/v1/inbox?wait=1', { token: a2 });
    const other = (await sendOk(h, a2, { to: 'Agent-1', body: 'not for Agent-2' })).message;
    const r = await poll;
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { agent: 'Agent-2', items: [] });
    assert.ok(Date.now() - started >= 800, 'the poll waited about its second');
    assert.deepEqual(await inboxIds(h, a1), [other.id]);
  });

  it('refuses a wait above limits.waitSeconds (400)', async (t) => {
    const h = await startTestApp(t, { 'limits.waitSeconds': 2 });
    const a1 = await h.addAgent('Agent-1');
    assertProblem(await h.call('GET', '/v1/inbox?wait=3', { token: a1 }), 400, 'validation_failed');
    const ok = await h.call('GET', '/v1/inbox?wait=0', { token: a1 });
    assert.equal(ok.status, 200);
  });
});
