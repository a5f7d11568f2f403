// The permission table, cell by cell, over HTTP: for every role and every operation in OPERATIONS,
// one representative request, which must succeed when the table says yes and be refused (403
// `forbidden` problem+json, unless noted) when it says no. The cases are keyed by operation, so an
// operation added to the table without a case here fails to compile and fails this test. Stream
// operations are checked over WebSocket and SSE too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROLES, type Role } from '../../src/domain/agent.js';
import { allows, type Operation, OPERATIONS } from '../../src/security/permissions.js';
import { http, openWs, send, SseClient, startStreamApp } from '../streams/clients.js';

interface Request {
  method: string;
  path: string;
  body?: unknown;
  as?: string;
}

interface Case {
  /** Prepares what the request needs (as admin) and returns the request. `n` makes names unique. */
  request: (c: Ctx) => Promise<Request>;
  /** Status of a success. */
  ok: number;
  /** How a refusal looks for a role when not 403 forbidden (e.g. messages one may not see are not found). */
  refused?: (role: Role) => { status: number; code: string } | undefined;
}

interface Ctx {
  base: string;
  admin: string;
  role: Role;
  /** Registers an agent as admin; returns its token. */
  add(id: string, role?: Role): Promise<string>;
  asAdmin(method: string, path: string, body?: unknown, as?: string): Promise<any>;
}

const CASES: Record<Operation, Case> = {
  'identity.own': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/whoami' }) },
  'agent.list': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/agents' }) },
  'queue.stats': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/queue?agent=Target' }) },
  'message.send': { ok: 201, request: async () => ({ method: 'POST', path: '/v1/messages', body: { to: 'Target', body: 'hello' } }) },
  'message.broadcast': { ok: 201, request: async () => ({ method: 'POST', path: '/v1/messages', body: { to: 'all', body: 'hello all' } }) },
  'inbox.own': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/inbox' }) },
  'history.own': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/history' }) },
  'queue.all': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/dlq?agent=Target' }) },
  'history.all': {
    ok: 200,
    // A message between two others: documented to answer 404, so that ids do not leak existence.
    refused: (role) => (allows(role, 'history.own') ? { status: 404, code: 'message_not_found' } : undefined),
    request: async (c) => {
      const m = await c.asAdmin('POST', '/v1/messages', { to: 'Other', body: 'between Target and Other' }, 'Target');
      return { method: 'GET', path: `/v1/messages/${m.message.id as string}` };
    },
  },
  'agent.register': { ok: 201, request: async (c) => ({ method: 'POST', path: '/v1/agents', body: { id: `New-${c.role}`, role: 'agent' } }) },
  'agent.remove': {
    ok: 204,
    request: async (c) => {
      await c.add(`Victim-${c.role}`);
      return { method: 'DELETE', path: `/v1/agents/Victim-${c.role}` };
    },
  },
  'status.own': { ok: 200, request: async () => ({ method: 'PUT', path: '/v1/status', body: { status: 'busy', mission: 'testing' } }) },
  'wrapup.send': { ok: 200, request: async () => ({ method: 'POST', path: '/v1/wrapup', body: { to: 'Target' } }) },
  'channel.create': { ok: 201, request: async (c) => ({ method: 'POST', path: '/v1/channels', body: { name: `c-${c.role}` } }) },
  'channel.post.any': {
    ok: 201,
    request: async (c) => {
      await c.asAdmin('POST', '/v1/channels', { name: `closed-${c.role}` }, 'Target');
      return { method: 'POST', path: '/v1/messages', body: { to: `#closed-${c.role}`, body: 'posting without being a member' } };
    },
  },
  'task.work': { ok: 200, request: async () => ({ method: 'POST', path: '/v1/tasks/next' }) },
  'task.create': { ok: 201, request: async (c) => ({ method: 'POST', path: '/v1/tasks', body: { title: `task by ${c.role}`, points: 1 } }) },
  'task.manage': {
    ok: 200,
    request: async (c) => {
      const t = await c.asAdmin('POST', '/v1/tasks', { title: `to verify (${c.role})`, points: 2 });
      const id = t.task.id as string;
      await c.asAdmin('POST', `/v1/tasks/${id}/claim`, undefined, 'Target');
      await c.asAdmin('POST', `/v1/tasks/${id}/done`, {}, 'Target');
      return { method: 'POST', path: `/v1/tasks/${id}/verify` };
    },
  },
  'template.manage': { ok: 200, request: async (c) => ({ method: 'PUT', path: `/v1/templates/t-${c.role}`, body: { body: 'Hello {agent_id}' } }) },
  'config.manage': { ok: 200, request: async () => ({ method: 'PUT', path: '/v1/config/presence.idleSeconds', body: { value: 301 } }) },
  'token.manage': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/tokens' }) },
  'keys.manage': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/keys' }) },
  'audit.read': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/audit?limit=1' }) },
  'act.as': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/whoami', as: 'Target' }) },
  'target.own': {
    ok: 201,
    request: async (c) => ({ method: 'POST', path: `/v1/agents/${c.role === 'admin' ? 'admin' : `the-${c.role}`}/targets`, body: { kind: 'webhook', url: 'http://127.0.0.1:9/hook' } }),
  },
  'retention.run': { ok: 200, request: async () => ({ method: 'POST', path: '/v1/retention/run', body: { dry_run: true } }) },
  'backup.manage': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/backups' }) },
  'target.any': { ok: 200, request: async () => ({ method: 'GET', path: '/v1/targets' }) },
  'target.host': { ok: 201, request: async (c) => ({ method: 'POST', path: '/v1/agents/Target/targets', body: { kind: 'file', dir: `/tmp/swarm-permissions-${c.role}` } }) },
};

describe('the permission table, cell by cell over HTTP', () => {
  it('has a case for every operation of the table', () => {
    assert.deepEqual(Object.keys(CASES).sort(), Object.keys(OPERATIONS).sort());
  });

  for (const role of ROLES) {
    it(`role ${role}: every operation allowed or refused as the table says`, async (t) => {
      const { h, base } = await startStreamApp(t);
      const add = (id: string, r: Role = 'agent'): Promise<string> => h.addAgent(id, r as 'agent');
      const asAdmin = async (method: string, path: string, body?: unknown, as?: string): Promise<any> => {
        const r = await http(base, method, path, { token: h.adminToken, body, as });
        assert.ok(r.status < 300, `setup ${method} ${path}: ${r.status} ${r.body}`);
        return r.json;
      };
      await add('Target');
      await add('Other');
      const token = role === 'admin' ? h.adminToken : await add(`the-${role}`, role);
      const ctx: Ctx = { base, admin: h.adminToken, role, add, asAdmin };
      const outcomes: string[] = [];
      for (const [op, c] of Object.entries(CASES) as [Operation, Case][]) {
        const req = await c.request(ctx);
        const r = await http(base, req.method, req.path, { token, body: req.body, as: req.as });
        const what = `${role} ${op}: ${req.method} ${req.path} -> ${r.status} ${r.body.slice(0, 200)}`;
        if (allows(role, op)) {
          assert.equal(r.status, c.ok, what);
        } else {
          const refused = c.refused?.(role) ?? { status: 403, code: 'forbidden' };
          assert.equal(r.status, refused.status, what);
          assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
          assert.equal(r.json.code, refused.code, what);
        }
        outcomes.push(`${op}=${r.status}`);
      }
      t.diagnostic(outcomes.join(' '));
    });
  }
});

describe('the permission table over streams (inbox.own)', () => {
  for (const role of ROLES) {
    it(`role ${role}: ${allows(role, 'inbox.own') ? 'streams its own deliveries' : 'cannot open a stream'} over WebSocket and SSE`, async (t) => {
      const { h, base } = await startStreamApp(t);
      const id = `the-${role}`;
      const token = role === 'admin' ? h.adminToken : await h.addAgent(id, role as 'agent');
      const self = role === 'admin' ? 'admin' : id;
      if (allows(role, 'inbox.own')) {
        const ws = await openWs(t, base, { token });
        const sender = await h.addAgent('Sender');
        const mid = await send(base, sender, { to: self, body: 'for the stream' });
        const d = await ws.nextOf('delivery');
        assert.equal(d.message.id, mid);
        const sse = await SseClient.open(t, base, { token });
        const ready = await sse.next('ready');
        assert.equal(ready.data.agent, self, 'streams as itself');
        // Acting as another agent is act.as: refused for those the table refuses it to.
        await h.addAgent('Someone');
        if (allows(role, 'act.as')) {
          const other = await SseClient.open(t, base, { token, as: 'Someone' });
          assert.equal((await other.next('ready')).data.agent, 'Someone');
        } else {
          const as = await http(base, 'GET', '/v1/stream', { token, as: 'Someone' });
          assert.equal(as.status, 403);
          assert.equal(as.json.code, 'forbidden');
        }
      } else {
        const ws = await openWs(t, base, { token, ready: false });
        const err = await ws.nextOf('error');
        assert.equal(err.code, 'forbidden');
        const closed = await ws.closed;
        assert.equal(closed.code, 4003);
        const r = await http(base, 'GET', '/v1/stream', { token });
        assert.equal(r.status, 403);
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(r.json.code, 'forbidden');
      }
    });
  }
});
