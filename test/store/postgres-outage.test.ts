// The PostgreSQL adapter when the database goes away under it (restart, failover, network): a
// connection lost in the middle of a transaction must neither end the hub process nor answer 500.
// The database stays up: a TCP proxy in between is cut instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubError } from '../../src/errors.js';
import { createPool, storeError } from '../../src/store/postgres/connection.js';
import { testDatabaseUrl } from '../support/postgres.js';
import { type CutProxy, startProxy } from '../support/tcp-proxy.js';

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
    const pool = createPool({ url, schema: null, size: 2 });
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
});
