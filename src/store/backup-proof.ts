// What proving a backup means, for both stores (sqlite/backup.ts, postgres/backup.ts): the copy's
// sha256 is the manifest's, and once restored somewhere scratch, its schema version and row
// counts are the manifest's and its audit chain verifies up to the manifest's head. Only then is
// the manifest marked verified.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../errors.js';
import { verifyChain } from './audit-chain.js';
import { type BackupManifest, writeManifest } from './backup-manifest.js';
import type { Store } from './store.js';

export interface VerifyReport {
  manifest: BackupManifest;
  /** The audit records verified in the copy. */
  auditRecords: number;
}

export async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The error of a backup that fails verification (exit 12), naming what differs. */
export function failsVerification(m: BackupManifest, what: string): HubError {
  return new HubError('integrity_failed', `backup ${m.id} fails verification: ${what}`, { details: { backup: m.id } });
}

/** The copy beside the manifest has the sha256 the manifest says. */
export async function checkSha256(dir: string, m: BackupManifest): Promise<void> {
  let sha: string;
  try {
    sha = await sha256Of(join(dir, m.file));
  } catch (e) {
    throw failsVerification(m, `cannot read ${m.file}: ${(e as Error).message}`);
  }
  if (sha !== m.sha256) throw failsVerification(m, `the sha256 of ${m.file} is ${sha}, the manifest says ${m.sha256}: the copy was altered or damaged`);
}

/**
 * A restored copy against its manifest: schema version and counts (`actual`), then the audit
 * chain of the store `open` gives (closed after) and its head. Marks the manifest verified.
 */
export async function proveCopy(dir: string, m: BackupManifest, actual: { schema_version: number; tables: Record<string, number> }, open: () => Promise<Store>, now: Date): Promise<VerifyReport> {
  if (actual.schema_version !== m.schema_version) throw failsVerification(m, `schema version ${actual.schema_version} in the copy, ${m.schema_version} in the manifest`);
  const wrong = Object.keys({ ...m.tables, ...actual.tables }).filter((t) => m.tables[t] !== actual.tables[t]);
  if (wrong.length > 0) throw failsVerification(m, `row counts differ from the manifest: ${wrong.map((t) => `${t} ${actual.tables[t] ?? 'missing'} in the copy, ${m.tables[t] ?? 'missing'} in the manifest`).join(', ')}`);
  const store = await open();
  const chain = await verifyChain(store).finally(() => store.close());
  if (!chain.ok) throw failsVerification(m, `the audit chain in the copy is broken: ${chain.problems.map((p) => p.message).slice(0, 3).join('; ')}`);
  const head = chain.head === null ? null : `${chain.head.seq}:${chain.head.hash}`;
  const expected = m.audit_head === null ? null : `${m.audit_head.seq}:${m.audit_head.hash}`;
  if (head !== expected) throw failsVerification(m, `the audit chain's head in the copy is ${head ?? 'none'}, the manifest says ${expected ?? 'none'}`);
  const verified = { ...m, verified_at: now.toISOString() };
  writeManifest(dir, verified);
  return { manifest: verified, auditRecords: chain.records };
}
