// scripts/smoke.mjs, the release's smoke test, run as the deploy workflow runs it (a process, the
// URL and the token in its environment) against a real hub started here: it passes with a
// captain's token and leaves no agent behind; a token that may not onboard, a bad token, a hub
// that does not answer and a missing token each fail with a clear message and create nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { http, registerAgents, unusedPort } from '../e2e/helpers.js';
import { ROOT } from '../support/paths.js';
import { type CliResult, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

const SMOKE = join(ROOT, 'scripts', 'smoke.mjs');

function smoke(env: Record<string, string>, args: string[] = []): Promise<CliResult> {
  return runCli(args, { bin: SMOKE, env, timeoutMs: 60_000 });
}

async function roster(url: string, admin: string): Promise<string[]> {
  const r = await http(url, 'GET', '/v1/agents', { token: admin });
  assert.equal(r.status, 200);
  return (r.json.agents as { id: string }[]).map((a) => a.id).sort();
}

describe('scripts/smoke.mjs against a hub started here', () => {
  it('onboards, sends, receives, acks and removes its agents with a captain token', async (t) => {
    const hub = await spawnHub(join(tempDir(), 'hub'));
    t.after(() => hub.stop());
    const { Captain: captain } = await registerAgents(hub.url, hub.adminToken, ['Captain'], 'captain');
    const before = await roster(hub.url, hub.adminToken);
    const summary = join(tempDir(), 'summary.md');
    const r = await smoke({ SWARM_SMOKE_URL: `${hub.url}/`, SWARM_SMOKE_TOKEN: captain as string, GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 0, r.stderr);
    const written = readFileSync(summary, 'utf8');
    assert.match(written, new RegExp(`Smoke test of ${hub.url}: passed`));
    for (const step of ['healthz', 'readyz', 'token', 'send', 'receive', 'ack']) assert.match(written, new RegExp(`\\| ${step} \\| ok \\|`), written);
    assert.equal((written.match(/\| (onboard|remove) smoke-[\w-]+ \| ok \|/g) ?? []).length, 4, written);
    assert.deepEqual(await roster(hub.url, hub.adminToken), before, 'the smoke agents are removed again');
    // The message went from one smoke agent to the other, through this hub.
    const history = await http(hub.url, 'GET', '/v1/history?search=smoke', { token: hub.adminToken });
    const sent = (history.json.messages as { from: string; to: string[]; subject: string }[]).filter((m) => m.subject === 'smoke');
    assert.equal(sent.length, 1, JSON.stringify(history.json));
    assert.match(sent[0]?.from ?? '', /^smoke-[\w-]+-a$/);
    assert.deepEqual(sent[0]?.to, [(sent[0]?.from ?? '').replace(/-a$/, '-b')]);
  });

  it('fails with the reason and creates nothing: an agent token, a bad token, no hub, no token', async (t) => {
    const hub = await spawnHub(join(tempDir(), 'hub'));
    t.after(() => hub.stop());
    const { 'Agent-1': agent } = await registerAgents(hub.url, hub.adminToken, ['Agent-1']);
    const before = await roster(hub.url, hub.adminToken);

    const asAgent = await smoke({ SWARM_SMOKE_TOKEN: agent as string }, ['--hub', hub.url]);
    assert.equal(asAgent.code, 1, asAgent.stderr);
    assert.match(asAgent.stderr, /smoke: FAILED: the token is Agent-1's, role agent: onboarding and removing the smoke agents needs a captain's or an admin's/);
    assert.match(asAgent.stderr, /\| token \| FAILED \|/);

    const badToken = await smoke({}, ['--hub', hub.url, '--token', 'swarm_not-a-token']);
    assert.equal(badToken.code, 1, badToken.stderr);
    assert.match(badToken.stderr, /smoke: FAILED: GET \/v1\/whoami: answered 401, expected 200 \(unauthorized: /);
    assert.deepEqual(await roster(hub.url, hub.adminToken), before, 'nothing was created');

    const started = Date.now();
    const noHub = await smoke({ SWARM_SMOKE_TOKEN: 'x' }, ['--hub', `http://127.0.0.1:${await unusedPort()}`, '--request-timeout', '5']);
    assert.equal(noHub.code, 1, noHub.stderr);
    assert.match(noHub.stderr, /smoke: FAILED: GET \/healthz: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.ok(Date.now() - started < 10_000, 'a hub that does not answer fails at once');

    const noToken = await smoke({}, ['--hub', hub.url]);
    assert.equal(noToken.code, 2, noToken.stderr);
    assert.match(noToken.stderr, /^smoke: no token: give --token or set SWARM_SMOKE_TOKEN/);
    const badWait = await smoke({ SWARM_SMOKE_TOKEN: 'x' }, ['--hub', hub.url, '--wait', 'soon']);
    assert.equal(badWait.code, 2, badWait.stderr);
    assert.match(badWait.stderr, /^smoke: --wait must be a number of seconds/);
  });
});
