// /metrics exports what docs/metrics.md lists, and counts what happens.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestApp } from '../support/app.js';
import { ROOT } from '../support/paths.js';

describe('/metrics', () => {
  it('exports every documented metric and nothing undocumented, and counts sends and deliveries', async (t) => {
    const h = await startTestApp(t);
    const a1 = await h.addAgent('Agent-1');
    await h.addAgent('Agent-2');
    assert.equal((await h.call('POST', '/v1/messages', { token: a1, body: { to: 'Agent-2', body: 'hello' } })).status, 201);
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const exported = new Set([...res.body.matchAll(/^# TYPE (swarm_[a-z_]+) /gm)].map((m) => m[1]).filter((n) => n !== undefined && !n.startsWith('swarm_process_')));
    const documented = new Set([...readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8').matchAll(/^\| `(swarm_[a-z_]+)` \|/gm)].map((m) => m[1]));
    assert.deepEqual([...exported].sort(), [...documented].sort());
    assert.match(res.body, /swarm_messages_sent_total\{sender="Agent-1",type="text",kind="A2A"\} 1/);
    assert.match(res.body, /swarm_queue_depth\{agent="Agent-2"\} 1/);
    assert.match(res.body, /swarm_http_requests_total\{method="POST",route="\/v1\/messages",status="201"\} 1/);
  });
});
