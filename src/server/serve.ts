// Runs the hub: opens the store, makes sure an admin token exists, listens, and shuts down cleanly
// on SIGTERM/SIGINT (stop accepting, finish in-flight requests and commits, flush presence, close).
import { resolve } from 'node:path';
import type { Config } from '../config/keys.js';
import { HubError } from '../errors.js';
import { ensureAdminToken, Hub } from '../hub/hub.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { buildApp } from './app.js';

export interface RunningHub {
  url: string;
  hub: Hub;
  adminTokenFile: string;
  close(): Promise<void>;
}

export function openStore(config: Config, metrics?: Metrics): Store {
  const db = config['store.database'];
  if (db !== '' && !db.startsWith('sqlite:')) {
    throw new HubError('not_implemented', `store.database ${db.replace(/\/\/[^@/]*@/, '//***@')}: only the embedded SQLite store exists in this version (PostgreSQL is planned)`);
  }
  const dir = db.startsWith('sqlite:') ? db.slice('sqlite:'.length) : config['data.dir'];
  return new SqliteStore({
    dir: resolve(dir),
    synchronous: config['store.synchronous'],
    batchMax: config['store.batchMax'],
    onCommit: metrics === undefined ? undefined : (kind, size, seconds) => {
      metrics.commitBatch.observe({ kind }, size);
      metrics.commitSeconds.observe({ kind }, seconds);
    },
  });
}

export async function startHub(config: Config, opts: { logger?: Logger; version?: string } = {}): Promise<RunningHub> {
  const logger = opts.logger ?? createLogger(config['log.level']);
  const metrics = createMetrics();
  const store = openStore(config, metrics);
  const hub = new Hub({ store, config, metrics, onError: (e, what) => logger.error({ err: e }, `${what} failed`) });
  const admin = await ensureAdminToken(hub, resolve(config['data.dir']));
  // Shared settings: the hub's versioned values over this process's own. Only this process writes
  // an embedded store, so polling for changes made elsewhere is needed only on a shared database.
  await hub.settings.load(store.kind === 'sqlite' ? undefined : 2000);
  // The embedded hub is the only process on its store: no consumer outlived the last run, so
  // every lease left in the file is released and those deliveries are handed out again at once.
  const released = await store.releaseAllLeases();
  if (released > 0) logger.info({ released }, 'released leases left by the previous run');
  hub.start();
  const app = await buildApp({ hub, logger, version: opts.version });
  let address: string;
  try {
    address = await app.listen({ host: config['server.host'], port: config['server.port'] });
  } catch (e) {
    await hub.stop();
    await store.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new HubError('config_invalid', `port ${config['server.port']} on ${config['server.host']} is already in use (set --port or server.port)`, { cause: e });
    throw e;
  }
  logger.info({ url: address, store: store.kind, data: resolve(config['data.dir']), synchronous: config['store.synchronous'] }, 'hub listening');
  if (admin.created) logger.info({ file: admin.file }, 'admin token written');
  let closing: Promise<void> | null = null;
  return {
    url: address,
    hub,
    adminTokenFile: admin.file,
    close: () => {
      closing ??= (async () => {
        // Streams first (WebSocket 1001, SSE `event: close`), then in-flight requests, then the
        // pending group commits, then the file.
        hub.closeStreams();
        await app.close();
        await hub.stop();
        await store.close();
        logger.info('hub stopped');
      })();
      return closing;
    },
  };
}
