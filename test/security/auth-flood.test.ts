// A flood of requests without a valid token must not become a flood of audit writes (issue 12:
// 300 tokenless requests wrote 300 records, 429s included). Failed authentications are charged to
// the address's limit first, then tallied: one record per address a minute, carrying the count,
// written when the minute ends and when the hub stops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthFailures, OTHER_SOURCES } from '../../src/hub/auth-failures.js';
import { startTestApp } from '../support/app.js';
import { spawnHub } from '../support/process.js';
import { storeRows, testStore } from '../support/store.js';
import { within } from '../support/within.js';

interface Row {
  seq: number;
  detail: unknown;
}

const detailOf = (r: Row): Record<string, any> => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, any>;

describe('failed authentications on the audit trail', () => {
  it('10,000 tokenless requests from one address add one record carrying the count of 401s', { timeout: 180_000 }, async (t) => {
    const store = testStore(t);
    const h = await spawnHub(store.dir, { store });
    t.after(() => h.kill());
    const failedRows = (): Promise<Row[]> => storeRows<Row>(store, "SELECT seq, detail FROM audit WHERE action = 'auth.failed' ORDER BY seq");

    const N = 10_000;
    const deadline = Date.now() + 120_000;
    const statuses = new Map<number, number>();
    let sent = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (sent < N && Date.now() < deadline) {
          sent += 1;
          const r = await fetch(`${h.url}/v1/inbox`, { signal: AbortSignal.timeout(10_000) });
          await r.arrayBuffer();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const n401 = statuses.get(401) ?? 0;
    const n429 = statuses.get(429) ?? 0;
    assert.equal(n401 + n429, N, `every request answered 401 or 429: ${JSON.stringify([...statuses])} in ${seconds} s`);
    assert.ok(n429 > 0, 'the address limit refused most of them');
    // Written once a minute per address: at most one record while the flood ran (two if a minute ended).
    assert.ok((await failedRows()).length <= 1 + Math.floor(seconds / 60), 'no record per request');

    assert.equal(await h.stop(), 0);
    const rows = await failedRows();
    assert.ok(rows.length >= 1 && rows.length <= 2 + Math.floor(seconds / 60), `${rows.length} auth.failed records for ${N} requests`);
    const details = rows.map(detailOf);
    assert.equal(
      details.reduce((sum, d) => sum + Number(d.count), 0),
      n401,
      'the records count every refused authentication (401), and none of the requests refused 429 before it',
    );
    for (const d of details) {
      assert.match(String(d.source), /127\.0\.0\.1|::1/);
      assert.deepEqual(Object.keys(d.reasons), ['missing token']);
      assert.ok(Number(d.first_at) <= Number(d.last_at));
    }
  });

  it('writes one record per address when the window ends, with count, reasons, token fingerprints and first and last time', async (t) => {
    const h = await startTestApp(t);
    let now = 1_900_000_000_000;
    const failures = new AuthFailures(h.hub.audit, () => now, 300);
    t.after(() => failures.stop());
    for (let i = 0; i < 5; i++) failures.note('10.0.0.1', i < 2 ? 'missing token' : 'invalid or revoked token', i < 2 ? undefined : `f${i % 2}`);
    now += 1000;
    failures.note('10.0.0.2', 'token expired', 'ab');
    const list = async (): Promise<Record<string, any>[]> => (await h.store.auditRecords({ action: 'auth.failed', limit: 2000 })).map((r) => ({ ...r.detail, actor: r.actor, outcome: r.outcome }));
    assert.deepEqual(await list(), [], 'nothing written before the window ends');
    await within(5000, async () => (await list()).length === 2, 'the window’s records');
    const [b, a] = await list();
    assert.deepEqual(a, {
      actor: 'anonymous',
      outcome: 'denied',
      source: '10.0.0.1',
      count: 5,
      first_at: 1_900_000_000_000,
      last_at: 1_900_000_000_000,
      reasons: { 'missing token': 2, 'invalid or revoked token': 3 },
      tokens: ['f0', 'f1'],
    });
    assert.equal(b?.source, '10.0.0.2');
    assert.equal(b?.count, 1);
    assert.equal(b?.first_at, 1_900_000_001_000);

    // The next window starts with the next failure; past 1000 addresses, the rest share a record.
    for (let i = 0; i < 1005; i++) failures.note(`10.1.${Math.floor(i / 256)}.${i % 256}`, 'missing token', undefined);
    await failures.stop();
    const all = await list();
    assert.equal(all.length, 2 + 1001);
    assert.equal(all.find((d) => d.source === OTHER_SOURCES)?.count, 5);
  });
});
