// The PostgreSQL of a benchmark: SWARM_BENCH_DATABASE_URL, or a throwaway cluster started with
// PostgreSQL's default durability (fsync, synchronous_commit and full_page_writes on; issue 11:
// headline figures use production durability), stopped when the process exits. Knows the server's
// processes when it runs on this machine, so their CPU can be measured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ROOT } from './servers.js';

export interface Pg {
  url: string;
  postmaster: number | null;
  admin: pg.Client;
}

interface Throwaway {
  url: string;
  version: string;
  port: number;
  dir: string;
  ms: number;
  stop(): void;
}

export async function openDatabase(log: (l: string) => void): Promise<Pg & { version: string; where: string; stop(): void }> {
  let url = process.env.SWARM_BENCH_DATABASE_URL ?? '';
  let stop = (): void => undefined;
  let postmaster: number | null = null;
  let where: string;
  if (url === '') {
    // scripts/ is plain JavaScript outside the compiled tree: loaded by URL, typed here.
    const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'postgres.mjs')).href)) as { startThrowawayPostgres(o: { durable: boolean }): Promise<Throwaway> };
    const t = await mod.startThrowawayPostgres({ durable: true });
    stop = t.stop;
    process.once('exit', stop);
    url = t.url;
    postmaster = Number(readFileSync(join(t.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    where = `throwaway cluster on 127.0.0.1:${t.port} (${t.dir}; PostgreSQL's default durability), ready in ${(t.ms / 1000).toFixed(1)} s`;
  } else {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || 5432}${u.pathname} from SWARM_BENCH_DATABASE_URL`;
  }
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  const version = ((await admin.query('SHOW server_version')).rows[0] as { server_version: string }).server_version;
  if (postmaster === null) {
    // A server on this machine whose data directory we may read: its processes can be measured too.
    try {
      const dir = ((await admin.query('SHOW data_directory')).rows[0] as { data_directory: string }).data_directory;
      postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      log('PostgreSQL server processes not found on this machine: their CPU is not measured');
    }
  }
  const settingsRow = (await admin.query(`SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) AS s FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'max_connections', 'shared_buffers')`)).rows[0] as { s: string };
  return { url, postmaster, admin, version, where: `${where}; ${settingsRow.s}`, stop };
}
