// Runs the hub: locks the embedded store's directory (one hub per directory), opens the store,
// makes sure an admin token exists, listens, and shuts down cleanly on SIGTERM/SIGINT (drain, stop
// accepting, finish in-flight requests and commits, flush presence, close, unlock).
import { readFileSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/keys.js';
import { HubError } from '../errors.js';
import { TargetRunner } from '../delivery/runner.js';
import { ensureAdminToken, Hub } from '../hub/hub.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { type DirLock, lockDataDir } from '../store/sqlite/dir-lock.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { checkSealing, encryptedStore } from '../store/encrypted-store.js';
import { Keyring, parseKey } from '../security/crypto.js';
import type { SchemaInfo, Store } from '../store/store.js';
import { buildApp } from './app.js';

export interface RunningHub {
  url: string;
  hub: Hub;
  adminTokenFile: string;
  close(): Promise<void>;
}

export const ROLES = ['all', 'api', 'config', 'worker'] as const;
export type ServeRole = (typeof ROLES)[number];

/** Where each role listens unless a port is configured: the deployment's layout. */
export const ROLE_PORTS: Record<ServeRole, number> = { all: 8080, api: 8080, config: 8081, worker: 8082 };

function isPostgres(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/**
 * The embedded store's directory, or null on PostgreSQL: processes sharing a PostgreSQL database
 * (and possibly one data directory, for the admin token) are meant to run side by side.
 */
export function sqliteDir(config: Config): string | null {
  const db = config['store.database'];
  if (isPostgres(db)) return null;
  if (db !== '' && !db.startsWith('sqlite:')) {
    throw new HubError('config_invalid', `store.database must be empty, sqlite:DIR or a postgres:// URL, not ${JSON.stringify(db.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80))}`);
  }
  return resolve(db.startsWith('sqlite:') ? db.slice('sqlite:'.length) : config['data.dir']);
}

/** Opens the configured store; `existing`: PostgreSQL only where a hub already made its schema (PostgresStoreOptions.existing). */
export async function openStore(config: Config, metrics?: Metrics, logger?: Logger, o: { existing?: boolean } = {}): Promise<Store> {
  const db = config['store.database'];
  const dir = sqliteDir(config);
  if (dir === null) {
    const pg = await PostgresStore.open({
      url: db,
      sessionUrl: config['store.sessionDatabase'] || undefined,
      prepare: config['store.prepare'],
      schema: config['store.schema'] || undefined,
      poolSize: config['store.poolSize'],
      batchMax: config['store.batchMax'],
      queueMax: config['store.queueMax'],
      onWarning: logger === undefined ? undefined : (message) => logger.warn(message),
      existing: o.existing,
    });
    if (metrics !== undefined) metrics.sources.pool = () => pg.poolStats();
    return pg;
  }
  const store = new SqliteStore({
    dir,
    synchronous: config['store.synchronous'],
    batchMax: config['store.batchMax'],
    walLimitMiB: config['store.walLimitMiB'],
    queueMax: config['store.queueMax'],
    onCommit:
      metrics === undefined
        ? undefined
        : (kind, size, seconds) => {
            metrics.commitBatch.observe({ kind }, size);
            metrics.commitSeconds.observe({ kind }, seconds);
          },
    onWarning: logger === undefined ? undefined : (message) => logger.warn(message),
  });
  if (metrics !== undefined) {
    metrics.sources.walBytes = () => store.walBytes();
    metrics.sources.writerUp = () => store.writerAlive();
    metrics.sources.disk = () => {
      const f = statfsSync(dir);
      return { free: f.bavail * f.bsize, size: f.blocks * f.bsize };
    };
    metrics.walLimitBytes.set(config['store.walLimitMiB'] * 1024 * 1024);
  }
  return store;
}

/** The TLS certificate and key, when configured (both or neither). */
export function readTls(config: Config): { cert: Buffer; key: Buffer } | undefined {
  const certFile = config['server.tlsCert'];
  const keyFile = config['server.tlsKey'];
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '') throw new HubError('config_invalid', 'TLS needs both server.tlsCert (--tls-cert) and server.tlsKey (--tls-key)');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new HubError('config_invalid', `cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
}

/** The configured keys, or null when encryption at rest is off. */
export function keyringFrom(config: Config): Keyring | null {
  const current = config['security.encryptionKey'];
  const older = config['security.previousKeys'].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (current === '') {
    if (older.length > 0) throw new HubError('config_invalid', 'security.previousKeys is set without security.encryptionKey');
    return null;
  }
  return new Keyring(parseKey(current, 'security.encryptionKey'), older.map((k, i) => parseKey(k, `security.previousKeys[${i}]`)));
}

/**
 * `swarm serve --migrate-only`: opens the store the way a hub does, which applies its pending
 * migrations (on PostgreSQL in one transaction under the advisory lock every starting process
 * takes), reads the schema version, and closes. An embedded store's directory is locked as for a
 * hub: a running hub there is refused (data_dir_locked) instead of being migrated under it.
 */
export async function migrateOnly(config: Config): Promise<SchemaInfo> {
  const dir = sqliteDir(config);
  const lock = dir === null ? null : lockDataDir(dir);
  try {
    const store = await openStore(config);
    try {
      return await store.schema();
    } finally {
      await store.close();
    }
  } finally {
    lock?.release();
  }
}

export async function startHub(config: Config, opts: { logger?: Logger; version?: string; role?: ServeRole; port?: number } = {}): Promise<RunningHub> {
  const role = opts.role ?? 'all';
  const logger = opts.logger ?? createLogger(config['log.level']);
  if (role !== 'all' && !isPostgres(config['store.database'])) {
    throw new HubError('config_invalid', `--role ${role} runs as one of several processes sharing a database: give --database postgres://… (the embedded SQLite store serves one process, --role all)`);
  }
  const metrics = createMetrics();
  const keyring = keyringFrom(config);
  // Before the store is opened: a second hub on the directory must not touch it (migrations,
  // released leases) before it is refused.
  const dir = sqliteDir(config);
  const lock = dir === null ? null : lockDataDir(dir);
  try {
    return await serve(config, logger, metrics, keyring, lock, role, opts);
  } catch (e) {
    lock?.release();
    throw e;
  }
}

async function serve(config: Config, logger: Logger, metrics: Metrics, keyring: Keyring | null, lock: DirLock | null, role: ServeRole, opts: { version?: string; port?: number }): Promise<RunningHub> {
  const plainStore = await openStore(config, metrics, logger);
  try {
    for (const warning of await checkSealing(plainStore, keyring)) logger.warn(warning);
  } catch (e) {
    await plainStore.close();
    throw e;
  }
  const store = keyring === null ? plainStore : encryptedStore(plainStore, keyring);
  const hub = new Hub({ store, config, metrics, version: opts.version, onError: (e, what) => logger.error({ err: e }, `${what} failed`) });
  const admin = role === 'worker' ? { file: '', created: false, elsewhere: false } : await ensureAdminToken(hub, resolve(config['data.dir']));
  // Shared settings: the hub's versioned values over this process's own. Only this process writes
  // an embedded store, so polling for changes made elsewhere is needed only on a shared database.
  await hub.settings.load(store.kind === 'sqlite' ? undefined : 2000);
  // The embedded hub is the only process on its store: no consumer outlived the last run, so
  // every lease left in the file is released and those deliveries are handed out again at once.
  if (!store.shared) {
    const released = await store.releaseAllLeases();
    if (released > 0) logger.info({ released }, 'released leases left by the previous run');
  }
  hub.start({ sweeps: role === 'all' || role === 'worker' });
  metrics.buildInfo.set({ version: opts.version ?? 'unknown', store: store.kind, role }, 1);
  metrics.sources.settingsVersion = () => hub.settings.currentVersion;
  metrics.sources.keyRotation = () => hub.keys.rotating;
  // Delivery targets (docs/targets.md): pushed from the embedded hub and from workers, competing
  // for the same leases.
  const pusher = (role === 'all' || role === 'worker') && config['targets.deliver'] ? new TargetRunner(hub, (e, what) => logger.error({ err: e }, `${what} failed`)) : null;
  pusher?.start();
  let draining = false;
  const app = await buildApp({
    hub,
    logger,
    version: opts.version,
    tls: readTls(config),
    surface: role === 'worker' ? 'ops' : role === 'config' ? 'config' : 'all',
    draining: () => draining,
  });
  const port = opts.port ?? config['server.port'];
  let address: string;
  try {
    address = await app.listen({ host: config['server.host'], port });
  } catch (e) {
    await pusher?.stop();
    await hub.stop();
    await store.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new HubError('config_invalid', `port ${port} on ${config['server.host']} is already in use (set --port or server.port)`, { cause: e });
    throw e;
  }
  const bound = app.server.address();
  lock?.listening(typeof bound === 'object' && bound !== null ? bound.port : port);
  logger.info({ url: address, role, store: store.kind, data: resolve(config['data.dir']), synchronous: config['store.synchronous'] }, 'hub listening');
  if (admin.created) logger.info({ file: admin.file }, 'admin token written');
  if (admin.elsewhere) {
    logger.info(
      { file: admin.file },
      'the admin already holds a token (minted by another process on this database, or issued by an admin): none is minted or written here; use the admin.token of the process that minted it; lost: `swarm token reissue-admin`',
    );
  }
  let closing: Promise<void> | null = null;
  return {
    url: address,
    hub,
    adminTokenFile: admin.elsewhere ? '' : admin.file,
    close: () => {
      closing ??= (async () => {
        // Out of the balancer's rotation before the listener closes: closing at once raced the
        // balancer, which still sent requests on kept-alive connections as they were closed (haproxy
        // then drops the client's connection: 2-8 failed requests per SIGTERM under load).
        const drainMs = config['shutdown.drainSeconds'] * 1000;
        if (drainMs > 0) {
          draining = true;
          logger.info({ seconds: config['shutdown.drainSeconds'] }, 'draining: /readyz answers 503 until the listener closes');
          await new Promise((r) => setTimeout(r, drainMs));
        }
        // Streams first (WebSocket 1001, SSE `event: close`), then in-flight requests, then the
        // pending group commits, then the file.
        hub.closeStreams();
        await pusher?.stop();
        await app.close();
        await hub.stop();
        await store.close();
        lock?.release();
        logger.info('hub stopped');
      })();
      return closing;
    },
  };
}
