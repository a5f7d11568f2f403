// Verifies a store's audit chain, page by page in seq order (two passes: index, then check). Used
// by `swarm audit verify` (through the hub) and by `swarm migrate`, which proves the copy.
import { type AuditAnchor, type AuditRecord, ChainCheck, type ChainReport } from '../domain/audit.js';
import type { Store } from './store.js';

const PAGE = 1000;

async function walk(store: Store, fn: (r: AuditRecord) => void): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await store.auditChain(after, PAGE);
    for (const r of page) fn(r);
    const last = page.at(-1);
    if (page.length < PAGE || last === undefined) return;
    after = last.seq;
  }
}

export async function verifyChain(store: Store, anchor: AuditAnchor | null = null): Promise<ChainReport> {
  // Retention removed the oldest records: the chain is proven from the last one removed.
  const check = new ChainCheck(anchor, await store.auditCheckpoint());
  await walk(store, (r) => check.index(r));
  await walk(store, (r) => check.check(r));
  return check.report();
}
