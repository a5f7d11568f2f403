// Reads an adapter's .sql files: numbered migrations, and named runtime queries. The build copies
// them beside the compiled JavaScript (scripts/build.mjs), so both layouts resolve the same way.
// Each adapter passes the URLs of its own files (built from its import.meta.url).
import { readFileSync, readdirSync } from 'node:fs';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The `NNNN_name.sql` files of a directory (a URL ending in `/`), in order. */
export function loadMigrations(dir: URL): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(new URL(f, dir), 'utf8') }));
}

/** Splits a file of `-- name: x` sections into a map of name to SQL. */
export function loadQueries(file: URL): Record<string, string> {
  const out: Record<string, string> = {};
  let name: string | null = null;
  let lines: string[] = [];
  const close = (): void => {
    if (name !== null) out[name] = lines.join('\n').trim();
  };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^-- name: (\w+)\s*$/.exec(line);
    if (m) {
      close();
      name = m[1] ?? null;
      lines = [];
    } else if (name !== null && !line.startsWith('--')) lines.push(line);
  }
  close();
  return out;
}

/** The queries of every `.sql` file of a directory (a URL ending in `/`), as one map; a name may be used once. */
export function loadQueryDir(dir: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    for (const [name, sql] of Object.entries(loadQueries(new URL(f, dir)))) {
      if (name in out) throw new Error(`query ${name} is named twice in ${dir.pathname}`);
      out[name] = sql;
    }
  }
  return out;
}
