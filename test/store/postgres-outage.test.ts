// The PostgreSQL adapter when the database goes away under it (restart, failover, network): a
// connection lost in the middle of a transaction must neither end the hub process nor answer 500,
// and the hub answers 503 store_unavailable with Retry-After until the database is back, then
// recovers by itself. The database stays up: a TCP proxy in between is cut instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { HubError } from '../../src/errors.js';
import { ensureAdminToken, Hub } from '../../src/hub/hub.js';
import { buildApp } from '../../src/server/app.js';
import { createPool, storeError } from '../../src/store/postgres/connection.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { type CutProxy, startProxy } from '../support/tcp-proxy.js';
import { tempDir } from '../support/temp.js';

/** The test database's URL, reached through a proxy the test can cut (and closes last). */
async function proxied(): Promise<{ url: string; proxy: CutProxy }> {
  const u = new URL(testDatabaseUrl());
  const proxy = await startProxy(u.hostname, Number(u.port || 5432));
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return { url: u.toString(), proxy };
}

describe('PostgreSQL outage', () => {
  it('a connection lost inside a transaction fails its query with store_unavailable and the pool opens new ones', async (t) => {
    const { url, proxy } = await proxied();
    const pool = createPool({ url, size: 2 });
    t.after(async () => {
      await pool.end();
      await proxy.close();
    });
    const c = await pool.connect();
    await c.query('BEGIN');
    const running = c.query('SELECT pg_sleep(5)').then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    // Without a listener of the store's own, pg's 'error' event on this checked-out client ended
    // the process here.
    proxy.cut();
    const err = storeError(await running);
    c.release(true);
    assert.ok(err instanceof HubError, `not a HubError: ${String(err)}`);
    assert.equal(err.code, 'store_unavailable');
    assert.equal((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n, 1, 'a new connection after the loss');
  });

  it('answers 503 store_unavailable with Retry-After while the database is unreachable, unready, and recovers by itself', async (t) => {
    const { url, proxy } = await proxied();
    // Registered before testSchema's drop, so that it runs first: the hub flushes presence at stop.
    let close = async (): Promise<void> => proxy.close();
    t.after(() => close());
    const schema = testSchema(t, 'swarm_outage');
    const dir = tempDir();
    const { config } = loadConfig({ env: {}, cwd: dir, flags: { 'data.dir': dir, 'store.database': url, 'store.schema': schema, 'limits.agentRate': 0 } });
    const store = await PostgresStore.open({ url, schema, poolSize: 2 });
    const hub = new Hub({ store, config });
    const { file } = await ensureAdminToken(hub, dir);
    const admin = readFileSync(file, 'utf8').trim();
    const logged: { level: number; msg: string; err?: unknown; code?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
    const app = await buildApp({ hub, logger });
    close = async () => {
      await app.close();
      await hub.stop();
      await store.close();
      await proxy.close();
    };
    const send = (): Promise<{ statusCode: number; headers: Record<string, unknown>; json: () => any }> =>
      app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: `Bearer ${admin}`, 'idempotency-key': 'k1' }, payload: { to: 'admin', body: 'hello' } });
    assert.equal((await send()).statusCode, 201);

    await proxy.refuse();
    const down = await send();
    assert.equal(down.statusCode, 503);
    assert.equal(down.headers['content-type'], 'application/problem+json');
    assert.equal(down.json().code, 'store_unavailable');
    assert.equal(down.headers['retry-after'], '1');
    assert.equal(down.json().retry_after, 1);
    const unready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(unready.statusCode, 503);
    assert.equal(unready.headers['retry-after'], '1');
    // Expected while the database is away: a warning per refusal, no stack trace.
    assert.deepEqual(
      logged.map((l) => [l.level, l.msg, l.code, l.err === undefined]),
      [
        [40, 'request refused', 'store_unavailable', true],
        [40, 'request refused', 'store_unavailable', true],
      ],
    );

    await proxy.accept();
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    const again = await send();
    assert.equal(again.statusCode, 200, 'the retried send is answered as the same message');
    assert.equal(again.json().duplicate, true);
  });
});
