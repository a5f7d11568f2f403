// The migration half of a rolling upgrade (issue 16), with real processes on PostgreSQL: this
// version's api processes and worker run while "the next version" (next-version.ts: this build plus
// one backward-compatible migration) starts beside them and migrates the schema. This version must
// go on as before: ready for its balancer, sending, reading, acknowledging, streaming, and
// exchanging messages with the next version's process. Started afresh on the migrated schema it
// refuses (schema_too_new, exit 10), as docs/deployment.md "Upgrades and rollback" says.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { query, testDatabaseUrl, testSchema } from '../support/postgres.js';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { type Watcher, wsWatcher } from '../support/watchers.js';
import { addAgent, http, until } from '../streams/clients.js';
import { nextVersion } from './next-version.js';
import { ledger, probe } from './upgrade-probe.js';

describe('a newer version migrates under running processes', () => {
  it('this version stays ready and serving on a schema one backward-compatible migration ahead, talks with the newer process, and refuses to start afresh on it', { timeout: 180_000 }, async (t) => {
    const next = nextVersion();
    const dir = tempDir('swarm-upgrade-mig-');
    const procs = new Map<string, HubProcess>();
    const watchers: Watcher[] = [];
    t.after(async () => {
      for (const w of watchers) w.close();
      await Promise.all([...procs.values()].map((p) => p.kill()));
    });
    const schema = testSchema(t, 'swarm_upgrade_mig');
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_AGENT_RATE: '0', SWARM_POOL_SIZE: '4', SWARM_GRACE_SECONDS: '8' };
    const spawn = async (name: string, args: string[], bin?: string): Promise<HubProcess> => {
      const p = await spawnHub(join(dir, name), { env, args, ...(bin === undefined ? {} : { bin }) });
      procs.set(name, p);
      return p;
    };

    const api0 = await spawn('api0', ['--role', 'api']);
    const api1 = await spawn('api1', ['--role', 'api']);
    await spawn('worker', ['--role', 'worker']);
    const before = await ledger(schema);
    const admin = api0.adminToken;
    const agent = async (id: string): Promise<{ id: string; token: string }> => ({ id, token: await addAgent(api0.url, admin, id) });
    const [from, to, streamed] = await Promise.all(['Probe-Sender', 'Probe-Receiver', 'Streamed'].map(agent));
    const watcher = await wsWatcher(api1.url, streamed!.id, streamed!.token);
    watchers.push(watcher);

    const newer = await spawn('next-api', ['--role', 'api'], next.bin);
    const after = await ledger(schema);
    const columns = await query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name IN ('upgrade_probe', 'upgrade_probe_at') ORDER BY table_name",
      [schema],
    );
    assert.deepEqual(after, [...before, next.version], `the next version applied its migration ${next.version} (ledger before ${before.join(',')})`);
    assert.deepEqual(columns.map((c) => c.table_name), ['deliveries', 'messages'], 'the probe migration added its columns');

    // This version, on the schema the next one left.
    for (const [name, p] of [['api0', api0], ['api1', api1]] as const) {
      const r = await probe(p.url, from!, to!, `probe-${name}`);
      t.diagnostic(`${name} on schema ${next.version} (it knows ${before.at(-1)}): ${r.detail}`);
      assert.ok(r.ok, `${name} no longer serves once the next version migrated: ${r.detail}`);
    }
    // Across versions: sent through either, streamed by this version's process, read through this version.
    const sentNew = await http(newer.url, 'POST', '/v1/messages', { token: from!.token, body: { to: [streamed!.id, to!.id], body: 'from the next version' } });
    const sentOld = await http(api0.url, 'POST', '/v1/messages', { token: from!.token, body: { to: streamed!.id, body: 'from this version' } });
    assert.equal(sentNew.status, 201, sentNew.body);
    assert.equal(sentOld.status, 201, sentOld.body);
    const ids = [sentNew.json.message.id as string, sentOld.json.message.id as string];
    await until('the stream on api1 to deliver both', () => (ids.every((id) => watcher.received.has(id)) ? true : undefined), 10_000);
    const readOld = await http(api1.url, 'POST', `/v1/messages/${ids[0]}/read`, { token: to!.token });
    assert.equal(readOld.status, 200, `the next version's message read through this version: ${readOld.body}`);
    const forNext = await http(api0.url, 'POST', '/v1/messages', { token: from!.token, body: { to: to!.id, body: 'read through the next version' } });
    const readNew = await http(newer.url, 'POST', `/v1/messages/${forNext.json?.message?.id}/read`, { token: to!.token });
    assert.equal(readNew.status, 200, `this version's message read through the next version: ${readNew.body}`);

    // Rollback: this version, started afresh on the migrated schema, refuses it (it does not know
    // migration N+1), and exits 10 without touching it.
    const fresh = await runCli(['serve', '--port', '0', '--data', join(dir, 'fresh'), '--role', 'api'], { env, timeoutMs: 20_000 });
    t.diagnostic(`this version started on schema ${next.version}: exit ${fresh.code}: ${fresh.stderr.trim().split('\n').at(-1)}`);
    assert.equal(fresh.code, 10, fresh.stderr);
    assert.match(fresh.stderr, /schema_too_new/);
    assert.deepEqual(await ledger(schema), after, 'the refused start changed the ledger');

    watcher.close();
    const codes = await Promise.all(['api0', 'api1', 'worker', 'next-api'].map(async (n) => [n, await procs.get(n)!.stop()] as const));
    assert.deepEqual(Object.fromEntries(codes), { api0: 0, api1: 0, worker: 0, 'next-api': 0 }, 'SIGTERM: every process exits 0');
  });
});
