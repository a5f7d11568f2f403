// Configuration through real processes: where each value comes from (default < swarm.yaml <
// SWARM_* < flags), and a hub that refuses to start on a bad setting or a database newer than
// itself, with one stderr line that names the problem and without touching the data.
import assert from 'node:assert/strict';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { exitCodeOf } from '../../src/errors.js';
import { tableCounts } from '../support/db.js';
import { runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { okJson, refused } from './helpers.js';

const serveArgs = (dir: string) => ['serve', '--port', '0', '--data', join(dir, '.swarm')];

describe('config show --sources', () => {
  it('names each source, with default < file < env < flag', async () => {
    const dir = realpathSync(tempDir());
    const file = join(dir, 'swarm.yaml');
    writeFileSync(file, ['hub:', '  url: http://127.0.0.1:7001', 'server:', '  port: 7002', 'log:', '  level: debug', ''].join('\n'));
    const show = (env: Record<string, string>, flags: string[] = []) => runCli([...flags, 'config', 'show', '--sources', '--json'], { cwd: dir, env }).then(okJson);
    const [all, noFlag, fileOnly] = await Promise.all([
      show({ SWARM_PORT: '7003', SWARM_HUB: 'http://127.0.0.1:7005' }, ['--hub', 'http://127.0.0.1:7004']),
      show({ SWARM_PORT: '7003', SWARM_HUB: 'http://127.0.0.1:7005' }),
      show({}),
    ]);
    assert.equal(all.file, file);
    const s = all.settings;
    assert.deepEqual(s['hub.url'], { value: 'http://127.0.0.1:7004', source: 'flag:--hub', env: 'SWARM_HUB' });
    assert.deepEqual(s['server.port'], { value: '7003', source: 'env:SWARM_PORT', env: 'SWARM_PORT' });
    assert.deepEqual(s['log.level'], { value: 'debug', source: `file:${file}`, env: 'SWARM_LOG_LEVEL' });
    assert.deepEqual(s['data.dir'], { value: './.swarm', source: 'default', env: 'SWARM_DATA' });
    assert.deepEqual(noFlag.settings['hub.url'], { value: 'http://127.0.0.1:7005', source: 'env:SWARM_HUB', env: 'SWARM_HUB' });
    assert.deepEqual(fileOnly.settings['hub.url'], { value: 'http://127.0.0.1:7001', source: `file:${file}`, env: 'SWARM_HUB' });
    assert.deepEqual(fileOnly.settings['server.port'], { value: '7002', source: `file:${file}`, env: 'SWARM_PORT' });
  });

  it('never prints a token', async () => {
    const dir = tempDir();
    const r = okJson(await runCli(['--token', 'swarm_secret-value', 'config', 'show', '--sources', '--json'], { cwd: dir }));
    assert.equal(r.settings['cli.token'].source, 'flag:--token');
    assert.ok(!JSON.stringify(r).includes('secret-value'));
  });
});

describe('invalid configuration', () => {
  const cases: { name: string; yaml: string; mentions: string[] }[] = [
    { name: 'bad YAML', yaml: 'server: [\n  port: 1\n', mentions: ['swarm.yaml', 'YAML', 'at line '] },
    { name: 'an unknown key', yaml: 'server:\n  prot: 8081\n', mentions: ['server.prot'] },
    { name: 'a port that is not a number', yaml: 'server:\n  port: abc\n', mentions: ['server.port', 'abc'] },
    { name: 'a template with an unknown placeholder', yaml: 'templates:\n  onboarding: "Welcome {agent_id}, you are {rank}"\n', mentions: ['templates.onboarding', '{rank}'] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} in swarm.yaml: serve and config show exit 9 naming it`, async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'swarm.yaml'), c.yaml);
      const [serve, show] = await Promise.all([runCli(serveArgs(dir), { cwd: dir, timeoutMs: 15_000 }), runCli(['config', 'show'], { cwd: dir })]);
      for (const r of [serve, show]) {
        const line = refused(r, 9, 'config_invalid');
        for (const m of c.mentions) assert.ok(line.includes(m), `"${line}" mentions ${m}`);
      }
      assert.ok(!existsSync(join(dir, '.swarm')), 'a hub that refused to start created no data');
    });
  }

  it('refuses SWARM_PORT=99999 with exit 9 naming the variable and value', async () => {
    const dir = tempDir();
    const r = await runCli(['serve', '--data', join(dir, '.swarm')], { cwd: dir, env: { SWARM_PORT: '99999' }, timeoutMs: 15_000 });
    const line = refused(r, 9, 'config_invalid');
    for (const m of ['server.port', '99999', 'SWARM_PORT']) assert.ok(line.includes(m), `"${line}" mentions ${m}`);
    assert.ok(!existsSync(join(dir, '.swarm')));
  });
});

describe('serve refuses what it cannot run', () => {
  it('a database whose schema is newer: exit 10, data untouched', async (t) => {
    const dir = tempDir();
    const dataDir = join(dir, '.swarm');
    const hub = await spawnHub(dataDir, { cwd: dir });
    t.after(() => hub.kill());
    assert.equal(await hub.stop(), 0);
    const db = new Database(join(dataDir, 'swarm.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, ?)').run('from_the_future', Date.now());
    db.close();
    const before = tableCounts(dataDir);

    const r = await runCli(serveArgs(dir), { cwd: dir, timeoutMs: 15_000 });
    const line = refused(r, 10, 'schema_too_new');
    assert.match(line, /999/);
    assert.match(line, /upgrade swarm/);
    assert.deepEqual(tableCounts(dataDir), before);
    const check = new Database(join(dataDir, 'swarm.db'), { readonly: true });
    const versions = (check.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((v) => v.version);
    check.close();
    assert.equal(versions.at(-1), 999);
  });

  it('--role api on the embedded store: a clear refusal naming what it needs', async () => {
    const dir = tempDir();
    const r = await runCli([...serveArgs(dir), '--role', 'api'], { cwd: dir, timeoutMs: 15_000 });
    const line = refused(r, exitCodeOf('config_invalid'), 'config_invalid');
    assert.notEqual(r.code, 0);
    assert.match(line, /--role api/);
    assert.match(line, /postgres:\/\//);
    assert.match(line, /--role all/);
    assert.ok(!existsSync(join(dir, '.swarm')));
  });
});
