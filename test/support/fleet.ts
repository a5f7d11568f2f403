// A fleet of `swarm serve` processes sharing one PostgreSQL of its own through a PgBouncer in
// transaction mode, as docs/deployment.md runs many instances: each process's pool goes to the
// bouncer with unnamed statements (store.prepare off), its LISTEN connection straight to the
// server (store.sessionDatabase). With what such a test measures: the server's connections by
// kind, and the CPU of the processes.
import { join } from 'node:path';
import pg from 'pg';
import { LOCK_APPLICATION } from '../../src/store/postgres/leader.js';
import { type PgBouncer, startPgBouncer } from './pgbouncer.js';
import { type OwnPostgres, ownPostgres } from './postgres.js';
import { procUsage } from './proc.js';
import { adminTokenOf, type HubProcess, spawnHub } from './process.js';
import { tempDir } from './temp.js';

export type Role = 'api' | 'config' | 'worker';

export interface FleetOptions {
  roles: Role[];
  /** Each process's pool (SWARM_POOL_SIZE): its client connections to the bouncer. */
  processPool: number;
  /** The bouncer's server connections (default_pool_size, also max_db_connections). */
  bouncerPool: number;
  /** Processes started at once: many node processes starting together on 2 cores miss their 20 s start bound. */
  wave: number;
  schema: string;
}

export interface Fleet {
  pg: OwnPostgres;
  bouncer: PgBouncer;
  /** The database the throwaway cluster made (scripts/postgres.mjs). */
  database: string;
  procs: { role: Role; hub: HubProcess }[];
  apis: HubProcess[];
  /** A connection straight to PostgreSQL, for pg_stat_activity and checks. */
  observer: pg.Client;
  /** The admin token: minted once, by whichever process started first (adminTokenOf). */
  admin: string;
  /** The processes' environment. */
  env: Record<string, string>;
  /** How long the processes took to listen, all waves. */
  startMs: number;
  /** SIGTERM to every process (their exit codes), then the bouncer and the cluster. */
  stop(): Promise<(number | null)[]>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const cluster = await ownPostgres({ maxConnections: 100 });
  const database = new URL(cluster.url).pathname.slice(1);
  const procs: Fleet['procs'] = [];
  let bouncer: PgBouncer | null = null;
  let observer: pg.Client | null = null;
  const stop = async (): Promise<(number | null)[]> => {
    const codes = await Promise.all(procs.map((p) => p.hub.stop()));
    await observer?.end().catch(() => undefined);
    await bouncer?.stop();
    cluster.stop();
    return codes;
  };
  try {
    bouncer = await startPgBouncer({ upstream: { host: '127.0.0.1', port: cluster.port }, poolSize: o.bouncerPool, maxClients: 200 });
    const env = {
      SWARM_DATABASE: bouncer.url(database),
      SWARM_SESSION_DATABASE: cluster.url,
      SWARM_DB_PREPARE: 'false',
      SWARM_DB_SCHEMA: o.schema,
      SWARM_POOL_SIZE: String(o.processPool),
      SWARM_AGENT_RATE: '0',
      SWARM_ADDRESS_RATE: '0',
    };
    const dir = tempDir();
    const t0 = performance.now();
    for (let i = 0; i < o.roles.length; i += o.wave) {
      const wave = o.roles.slice(i, i + o.wave).map(async (role, j) => ({ role, hub: await spawnHub(join(dir, `p${i + j}`), { env, args: ['--role', role] }) }));
      // Each one that started is stopped by stop(), also when another of its wave failed.
      for (const r of await Promise.allSettled(wave)) if (r.status === 'fulfilled') procs.push(r.value);
      if (procs.length < Math.min(i + o.wave, o.roles.length)) throw new Error(`${i + o.wave - procs.length} hub processes did not start; see above`);
    }
    const startMs = performance.now() - t0;
    observer = new pg.Client({ connectionString: cluster.url });
    await observer.connect();
    const apis = procs.filter((p) => p.role === 'api').map((p) => p.hub);
    return { pg: cluster, bouncer, database, procs, apis, observer, admin: adminTokenOf(procs.map((p) => p.hub)), env, startMs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface Connections {
  total: number;
  /** The processes' LISTEN connections (their only statement was LISTEN). */
  listen: number;
  /** The workers' sweep-lock connections (application_name `swarm sweep lock`), straight to the server. */
  locks: number;
  /** The rest: the bouncer's server connections. */
  pooled: number;
}

/** Client backends of the observer's database, but its own. */
export async function connections(c: pg.Client): Promise<Connections> {
  const r = await c.query<{ total: number; listen: number; locks: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE query ILIKE 'LISTEN%')::int AS listen,
            count(*) FILTER (WHERE application_name = $1)::int AS locks
       FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    [LOCK_APPLICATION],
  );
  const row = r.rows[0] ?? { total: 0, listen: 0, locks: 0 };
  return { total: row.total, listen: row.listen, locks: row.locks, pooled: row.total - row.listen - row.locks };
}

/** Samples the connections every 100 ms until stopped, keeping the peak of each kind. */
export function sampleConnections(c: pg.Client): { peak: Connections; stop(): Promise<void> } {
  const peak: Connections = { total: 0, listen: 0, locks: 0, pooled: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await connections(c);
      peak.total = Math.max(peak.total, s.total);
      peak.listen = Math.max(peak.listen, s.listen);
      peak.locks = Math.max(peak.locks, s.locks);
      peak.pooled = Math.max(peak.pooled, s.pooled);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    peak,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** CPU seconds so far of the fleet's processes, of the bouncer and of this (the test) process. */
export function cpuSeconds(f: Fleet): { hubs: number; bouncer: number; self: number } {
  const of = (pid: number | undefined): number => procUsage(pid ?? 0)?.cpuS ?? 0;
  return { hubs: f.procs.reduce((n, p) => n + of(p.hub.proc.pid), 0), bouncer: of(f.bouncer.pid), self: of(process.pid) };
}
