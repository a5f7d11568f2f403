// "The next version" for the migration half of the rolling-upgrade tests: this checkout's build
// copied, plus one more PostgreSQL migration of the kind the one-version rule allows (new nullable
// columns, a new table, a new index: expand, never rename or drop). Running it beside this
// version's processes shows what a release that migrates does to the one before it. A copy rather
// than a change to dist/: the migrations are read from beside the compiled adapter.
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

const MIGRATIONS = join('dist', 'src', 'store', 'postgres', 'migrations');

/** The probe migration: backward-compatible, as docs/deployment.md "Upgrades and rollback" asks. */
export const PROBE_SQL = `-- Written by test/ship/next-version.ts: the expand step of a change, as a next release might ship it.
ALTER TABLE messages ADD COLUMN upgrade_probe TEXT;
ALTER TABLE deliveries ADD COLUMN upgrade_probe_at BIGINT;
CREATE TABLE upgrade_probe (id BIGSERIAL PRIMARY KEY, note TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX messages_upgrade_probe ON messages (upgrade_probe) WHERE upgrade_probe IS NOT NULL;
`;

export interface NextVersion {
  dir: string;
  bin: string;
  /** The probe migration's number: one past this version's newest. */
  version: number;
}

/** A copy of this checkout's build with the probe migration added; removed when the test process ends. */
export function nextVersion(sql = PROBE_SQL): NextVersion {
  const latest = Math.max(...readdirSync(join(ROOT, MIGRATIONS)).filter((f) => /^\d{4}_.*\.sql$/.test(f)).map((f) => Number(f.slice(0, 4))));
  const version = latest + 1;
  const dir = tempDir('swarm-next-');
  mkdirSync(join(dir, 'dist'));
  cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, MIGRATIONS, `${String(version).padStart(4, '0')}_upgrade_probe.sql`), sql);
  return { dir, bin: join(dir, 'bin', 'swarm.cjs'), version };
}
