// The audit chain part of the Store contract, for every adapter: appends form one unbroken chain
// (also when many are made at once), reads filter and page as documented, and what is read back
// hashes to what was stored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditHash, ChainCheck, GENESIS_HASH, type AuditRecord, type NewAuditRecord } from '../../src/domain/audit.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFactory } from './suite.js';

const T = 1_950_000_000_000;

function rec(over: Partial<NewAuditRecord> = {}): NewAuditRecord {
  return { at: T, actor: 'admin', action: 'config.set', target: 'presence.idleSeconds', requestId: 'req-1', outcome: 'ok', detail: { value: 120 }, ...over };
}

async function wholeChain(s: Store, page = 7): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (;;) {
    const got = await s.auditChain(out.at(-1)?.seq ?? 0, page);
    out.push(...got);
    if (got.length < page) return out;
  }
}

function verify(chain: AuditRecord[]): ReturnType<ChainCheck['report']> {
  const check = new ChainCheck();
  for (const r of chain) check.index(r);
  for (const r of chain) check.check(r);
  return check.report();
}

export function auditConformance(name: string, make: StoreFactory): void {
  describe(`Store conformance, audit chain: ${name}`, () => {
    it('chains records: seq 1, 2, 3, each pointing to the hash of the one before', async (t) => {
      const s = await make(t);
      const a = await s.appendAudit(rec({ detail: { z: 1, a: { y: [1, 2], b: null } } }));
      const b = await s.appendAudit(rec({ actor: 'cap', action: 'act.as', target: 'Agent-1', requestId: null, detail: {} }));
      const c = await s.appendAudit(rec({ actor: 'anonymous', action: 'auth.failed', outcome: 'denied', target: '' }));
      assert.deepEqual([a.seq, b.seq, c.seq], [1, 2, 3]);
      assert.equal(a.prevHash, GENESIS_HASH);
      assert.equal(b.prevHash, a.hash);
      assert.equal(c.prevHash, b.hash);
      const chain = await wholeChain(s);
      assert.deepEqual(chain, [a, b, c], 'read back exactly as appended');
      for (const r of chain) assert.equal(auditHash(r), r.hash);
      assert.equal(verify(chain).ok, true);
    });

    it('never dates a record before the one before it', async (t) => {
      const s = await make(t);
      await s.appendAudit(rec({ at: T + 100 }));
      const late = await s.appendAudit(rec({ at: T + 50 }));
      assert.equal(late.at, T + 100);
      assert.equal(auditHash(late), late.hash);
    });

    it('lists newest first, filtered by time, actor and action, up to the limit', async (t) => {
      const s = await make(t);
      await s.appendAudit(rec({ at: T + 1, actor: 'admin', action: 'config.set' }));
      await s.appendAudit(rec({ at: T + 2, actor: 'cap', action: 'act.as' }));
      await s.appendAudit(rec({ at: T + 3, actor: 'cap', action: 'agent.register' }));
      await s.appendAudit(rec({ at: T + 4, actor: 'admin', action: 'act.as' }));
      assert.deepEqual((await s.auditRecords({ limit: 10 })).map((r) => r.seq), [4, 3, 2, 1]);
      assert.deepEqual((await s.auditRecords({ limit: 2 })).map((r) => r.seq), [4, 3]);
      assert.deepEqual((await s.auditRecords({ actor: 'cap', limit: 10 })).map((r) => r.seq), [3, 2]);
      assert.deepEqual((await s.auditRecords({ action: 'act.as', limit: 10 })).map((r) => r.seq), [4, 2]);
      assert.deepEqual((await s.auditRecords({ since: T + 3, limit: 10 })).map((r) => r.seq), [4, 3]);
      assert.deepEqual((await s.auditRecords({ since: T + 2, actor: 'admin', action: 'act.as', limit: 10 })).map((r) => r.seq), [4]);
      assert.deepEqual(await s.auditRecords({ actor: 'nobody', limit: 10 }), []);
    });

    it('pages the chain in seq order', async (t) => {
      const s = await make(t);
      for (let i = 0; i < 10; i++) await s.appendAudit(rec({ detail: { i } }));
      assert.deepEqual((await s.auditChain(0, 3)).map((r) => r.seq), [1, 2, 3]);
      assert.deepEqual((await s.auditChain(8, 5)).map((r) => r.seq), [9, 10]);
      assert.deepEqual(await s.auditChain(10, 5), []);
      assert.deepEqual((await wholeChain(s, 4)).map((r) => r.detail.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('keeps one unbroken chain when many records are appended at once', async (t) => {
      const s = await make(t);
      const n = 60;
      const made = await Promise.all(Array.from({ length: n }, (_, i) => s.appendAudit(rec({ actor: `w${i}`, detail: { i } }))));
      assert.deepEqual(made.map((r) => r.seq).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i + 1));
      const chain = await wholeChain(s, 25);
      assert.equal(chain.length, n);
      const report = verify(chain);
      assert.deepEqual(report.problems, []);
      assert.equal(report.head?.seq, n);
      assert.equal(new Set(chain.map((r) => r.actor)).size, n, 'every append stored once');
    });
  });
}
