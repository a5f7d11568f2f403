// One hub per embedded store (issue 12: two `swarm serve --data ./d` both started, and a token
// revoked through one still worked through the other). The second exits 14 with one line naming
// the first (pid, host, port) and leaves the directory alone; once the first is killed with -9,
// a new one starts at once (the lock dies with its process). Processes on a shared PostgreSQL are
// meant to run side by side, also on one data directory: they are not locked out.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exitCodeOf, HubError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { startHub } from '../../src/server/serve.js';
import { tableCounts } from '../support/db.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { http, refused } from './helpers.js';

describe('one hub per data directory', () => {
  it('a second serve on the same directory exits 14 naming the first; after kill -9 of the first, a new one starts', { timeout: 90_000 }, async (t) => {
    const dir = tempDir();
    const data = join(dir, '.swarm');
    const first = await spawnHub(data, { cwd: dir });
    t.after(() => first.kill());
    const port = new URL(first.url).port;
    const before = tableCounts(data);

    const second = await runCli(['serve', '--port', '0', '--data', data], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(exitCodeOf('data_dir_locked'), 14);
    const line = refused(second, 14, 'data_dir_locked');
    assert.match(line, new RegExp(`pid ${first.proc.pid}\\b`), line);
    assert.ok(line.includes(`host ${hostname()}`), line);
    assert.match(line, new RegExp(`port ${port}\\b`), line);
    assert.ok(line.includes(data), line);
    assert.deepEqual(tableCounts(data), before, 'the refused hub touched nothing');
    assert.equal((await http(first.url, 'GET', '/v1/whoami', { token: first.adminToken })).status, 200, 'the first goes on serving');

    // Through sqlite:DIR as well: the store's directory is what is locked.
    refused(await runCli(['serve', '--port', '0', '--data', join(dir, 'other'), '--database', `sqlite:${data}`], { cwd: dir, timeoutMs: 20_000 }), 14, 'data_dir_locked');

    await first.kill();
    const again = await spawnHub(data, { cwd: dir });
    t.after(() => again.kill());
    assert.equal((await http(again.url, 'GET', '/v1/whoami', { token: first.adminToken })).status, 200, 'the same store, served again');
    assert.equal(await again.stop(), 0);
  });

  it('a second hub in the same process is refused too, and the lock is free once the first closes', async () => {
    const data = join(tempDir(), '.swarm');
    const { config } = loadConfig({ env: {}, cwd: tempDir(), flags: { 'data.dir': data, 'server.port': 0, 'log.level': 'error' } });
    const first = await startHub(config, { port: 0 });
    try {
      await assert.rejects(startHub(config, { port: 0 }), (e: unknown) => e instanceof HubError && e.code === 'data_dir_locked' && e.message.includes(`pid ${process.pid}`));
    } finally {
      await first.close();
    }
    const second = await startHub(config, { port: 0 });
    await second.close();
  });

  it('processes on one PostgreSQL share a data directory: none is locked out, and one admin token is minted', { timeout: 60_000 }, async (t) => {
    const schema = testSchema(t, 'swarm_lock');
    const data = join(tempDir(), 'shared');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_POOL_SIZE: '2' };
    const a = await spawnHub(data, { env, args: ['--role', 'api'] });
    t.after(() => a.kill());
    const [b, c] = await Promise.all([spawnHub(data, { env, args: ['--role', 'api'] }), spawnHub(data, { env, args: ['--role', 'all'] })]);
    t.after(() => b.kill());
    t.after(() => c.kill());
    for (const p of [a, b, c]) assert.equal((await http(p.url, 'GET', '/v1/whoami', { token: a.adminToken })).status, 200, p.url);
    const tokens = await http(a.url, 'GET', '/v1/tokens?agent=admin', { token: a.adminToken });
    assert.equal(tokens.json.tokens.length, 1, 'one admin token between them');
  });
});
