// `swarm retention run` as a user runs it: against a real hub, a dry run as the admin reports the
// rules and removes nothing; an agent is refused (exit 6) and nothing changes; an unknown flag is
// a usage error (exit 2).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { okJson, swarm } from './helpers.js';

describe('swarm retention run', () => {
  it('dry-runs for the admin, refuses an agent, refuses an unknown flag', async (t) => {
    const hub = await spawnHub(join(tempDir(), 'hub'), { env: { SWARM_RETENTION_MESSAGES: '*=30,#decisions=forever' } });
    t.after(() => hub.stop());
    const admin = { token: hub.adminToken };
    const agent = okJson(await swarm(hub.url, ['agents', 'add', 'Agent-1', '--json'], admin)).token as string;
    const other = okJson(await swarm(hub.url, ['agents', 'add', 'Agent-2', '--json'], admin)).token as string;
    okJson(await swarm(hub.url, ['send', 'Agent-2', 'hello', '--json'], { token: agent }));
    const dry = okJson(await swarm(hub.url, ['retention', 'run', '--dry-run', '--json'], admin));
    assert.deepEqual({ dry: dry.dry_run, rules: dry.rules, removed: dry.removed }, { dry: true, rules: '*=30,#decisions=forever', removed: 0 });
    const human = await swarm(hub.url, ['retention', 'run', '--dry-run'], admin);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /would remove 0 of 0 messages examined \(\*=30,#decisions=forever\)/);
    const refused = await swarm(hub.url, ['retention', 'run'], { token: agent });
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, /^swarm: forbidden: /);
    const usage = await swarm(hub.url, ['retention', 'run', '--everything'], admin);
    assert.equal(usage.code, 2, usage.stderr);
    assert.equal(okJson(await swarm(hub.url, ['inbox', '--json'], { token: other })).items.length, 1, 'nothing removed');
  });
});
