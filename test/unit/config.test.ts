import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_KEYS } from '../../src/config/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { HubError } from '../../src/errors.js';
import { tempDir } from '../support/temp.js';

function invalid(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HubError, `expected HubError, got ${String(e)}`);
    assert.equal(e.code, 'config_invalid');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('config', () => {
  it('defaults come from the key table, each with source "default"', () => {
    const { config, sources, file } = loadConfig({ env: {}, cwd: tempDir() });
    assert.equal(file, null);
    for (const [k, spec] of Object.entries(CONFIG_KEYS)) {
      assert.deepEqual(config[k as keyof typeof config], spec.default);
      assert.equal(sources[k as keyof typeof sources], 'default');
    }
  });

  it('layers defaults < swarm.yaml < SWARM_* < flags and names each source', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'swarm.yaml'), 'server:\n  port: 9001\n  host: 0.0.0.0\nstore:\n  synchronous: normal\nlog:\n  level: debug\n');
    const { config, sources, file } = loadConfig({
      cwd,
      env: { SWARM_PORT: '9002', SWARM_SYNCHRONOUS: 'full' },
      flags: { 'server.port': 9003, 'hub.url': undefined },
      flagNames: { 'server.port': '--port' },
    });
    assert.equal(file, join(cwd, 'swarm.yaml'));
    assert.equal(config['server.port'], 9003);
    assert.equal(sources['server.port'], 'flag:--port');
    assert.equal(config['store.synchronous'], 'full');
    assert.equal(sources['store.synchronous'], 'env:SWARM_SYNCHRONOUS');
    assert.equal(config['server.host'], '0.0.0.0');
    assert.equal(sources['server.host'], `file:${join(cwd, 'swarm.yaml')}`);
    assert.equal(config['log.level'], 'debug');
    assert.equal(sources['hub.url'], 'default');
  });

  it('reads an explicit --config file, and refuses a missing one', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'other.yaml'), 'presence:\n  idleSeconds: 10\n');
    assert.equal(loadConfig({ cwd, env: {}, file: 'other.yaml' }).config['presence.idleSeconds'], 10);
    invalid(() => loadConfig({ cwd, env: {}, file: 'missing.yaml' }), /missing\.yaml does not exist/);
  });

  it('coerces environment strings: numbers and booleans', () => {
    const { config } = loadConfig({ cwd: tempDir(), env: { SWARM_LOG_REQUESTS: 'true', SWARM_BODY_LIMIT: '4096' } });
    assert.equal(config['log.requests'], true);
    assert.equal(config['limits.bodyBytes'], 4096);
  });

  it('refuses bad values naming the key, the value and the source', () => {
    const cwd = tempDir();
    invalid(() => loadConfig({ cwd, env: { SWARM_PORT: 'abc' } }), /server\.port/, /"abc"/, /env:SWARM_PORT/);
    invalid(() => loadConfig({ cwd, env: { SWARM_PORT: '99999' } }), /server\.port/, /99999/);
    invalid(() => loadConfig({ cwd, env: { SWARM_SYNCHRONOUS: 'sometimes' } }), /store\.synchronous/, /full|normal/);
    invalid(() => loadConfig({ cwd, env: {}, flags: { 'hub.url': 'ftp://x' } }), /hub\.url/, /flag:hub\.url/);
    invalid(() => loadConfig({ cwd, env: { SWARM_TOKEN: 'x'.repeat(300) } }), /cli\.token = \(hidden\)/);
    // The PostgreSQL scale-out settings: a session URL that is not postgres:// (never echoed: it may
    // hold a password), a prepare flag that is not a boolean, a drain past its range.
    invalid(() => loadConfig({ cwd, env: { SWARM_SESSION_DATABASE: 'mysql://u:secret@db/x' } }), /store\.sessionDatabase = \(hidden\)/, /postgres:\/\//);
    assert.throws(() => loadConfig({ cwd, env: { SWARM_SESSION_DATABASE: 'mysql://u:secret@db/x' } }), (e: unknown) => !String((e as Error).message).includes('secret'));
    invalid(() => loadConfig({ cwd, env: { SWARM_DB_PREPARE: 'maybe' } }), /store\.prepare/, /"maybe"/);
    invalid(() => loadConfig({ cwd, env: { SWARM_DRAIN_SECONDS: '-1' } }), /shutdown\.drainSeconds/);
    invalid(() => loadConfig({ cwd, env: { SWARM_DRAIN_SECONDS: '9999' } }), /shutdown\.drainSeconds/);
    assert.equal(loadConfig({ cwd, env: { SWARM_DB_PREPARE: 'false', SWARM_DRAIN_SECONDS: '1.5' } }).config['store.prepare'], false);
    // A drain as long as the grace: every SIGTERM would end without closing the store.
    invalid(() => loadConfig({ cwd, env: { SWARM_DRAIN_SECONDS: '3', SWARM_GRACE_SECONDS: '3' } }), /shutdown\.drainSeconds \(3, from env:SWARM_DRAIN_SECONDS\) must be less than shutdown\.graceSeconds/);
    // Issue 12's bounds and key rotation's pace: out of range or not numbers.
    for (const [env, key] of [
      [{ SWARM_WAL_LIMIT_MIB: '0' }, /store\.walLimitMiB/],
      [{ SWARM_QUEUE_MAX: '-5' }, /store\.queueMax/],
      [{ SWARM_STREAM_PENDING_FRAMES: 'many' }, /streams\.maxPendingFrames/],
      [{ SWARM_MAX_FAN_OUT: '0' }, /limits\.fanOut/],
      [{ SWARM_ROTATION_BATCH: '0' }, /security\.rotationBatch/],
      [{ SWARM_ROTATION_PAUSE: '-1' }, /security\.rotationPauseSeconds/],
      // Issues 14 and 15: delivery targets, retention, backups.
      [{ SWARM_TARGETS_DELIVER: 'sometimes' }, /targets\.deliver/],
      [{ SWARM_TARGETS_CONCURRENCY: '0' }, /targets\.concurrency/],
      [{ SWARM_TARGETS_CONCURRENCY: '65' }, /targets\.concurrency/],
      [{ SWARM_TARGETS_LEASE_SECONDS: '1.5' }, /targets\.leaseSeconds/],
      [{ SWARM_TARGETS_BACKOFF_SECONDS: '0' }, /targets\.backoffSeconds/],
      [{ SWARM_TARGETS_BACKOFF_MAX_SECONDS: 'soon' }, /targets\.backoffMaxSeconds/],
      [{ SWARM_TARGETS_BREAKER_FAILURES: '0' }, /targets\.breakerFailures/],
      [{ SWARM_TARGETS_BREAKER_SECONDS: '-1' }, /targets\.breakerSeconds/],
      [{ SWARM_RETENTION_AUDIT_DAYS: '-3' }, /retention\.auditDays/],
      [{ SWARM_RETENTION_INTERVAL_SECONDS: '0' }, /retention\.intervalSeconds/],
      [{ SWARM_RETENTION_BATCH: '0' }, /retention\.batch/],
      [{ SWARM_BACKUP_SCHEDULE: 'daily' }, /backup\.schedule/],
      [{ SWARM_BACKUP_KEEP: '0' }, /backup\.keep/],
    ] as const) invalid(() => loadConfig({ cwd, env }), key);
  });

  it('refuses unknown keys, bad YAML and non-mapping documents in the file', () => {
    const cwd = tempDir();
    const file = join(cwd, 'swarm.yaml');
    writeFileSync(file, 'server:\n  prot: 1\n');
    invalid(() => loadConfig({ cwd, env: {} }), /unknown setting 'server\.prot'/);
    writeFileSync(file, 'server: [1, 2\n');
    invalid(() => loadConfig({ cwd, env: {} }), /not valid YAML/);
    writeFileSync(file, '- a\n- b\n');
    invalid(() => loadConfig({ cwd, env: {} }), /must be a mapping/);
    writeFileSync(file, 'server:\n  port: abc\n');
    invalid(() => loadConfig({ cwd, env: {} }), /server\.port = "abc"/, /file:/);
  });

  it('refuses templates with unknown placeholders', () => {
    invalid(
      () => loadConfig({ cwd: tempDir(), env: { SWARM_TEMPLATE_ONBOARDING: 'Hi {agent_id}, your {rank}' } }),
      /templates\.onboarding/,
      /\{rank\}/,
      /\{agent_id\}, \{role\}, \{specialty\}/,
    );
  });

  it('refuses an idle timeout longer than the offline timeout', () => {
    invalid(() => loadConfig({ cwd: tempDir(), env: { SWARM_IDLE_SECONDS: '1000', SWARM_OFFLINE_SECONDS: '10' } }), /idleSeconds/);
  });
});
