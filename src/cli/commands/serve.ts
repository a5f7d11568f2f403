// serve: runs the hub in this process until SIGTERM/SIGINT; or, with --migrate-only, brings the
// store's schema up to date and exits (a Kubernetes migration Job runs it before a rollout).
import type { Command } from 'commander';
import { HubError } from '../../errors.js';
import type { ServeRole } from '../../server/serve.js';
import { cliConfig, type GlobalOptions } from '../context.js';
import { intIn, oneOf } from '../options.js';
import { emit, makeOutput } from '../render.js';

export const SERVE_ROLES = ['all', 'api', 'config', 'worker'] as const;

interface ServeOptions {
  role: string;
  port?: number;
  host?: string;
  data?: string;
  database?: string;
  tlsCert?: string;
  tlsKey?: string;
  migrateOnly?: boolean;
}

export function registerServeCommand(program: Command, version: string): void {
  program
    .command('serve')
    .description('run the hub (embedded SQLite in ./.swarm by default)')
    .option('--role <role>', `what this process does: ${SERVE_ROLES.join(', ')} (see below)`, oneOf(SERVE_ROLES), 'all')
    .option('--port <port>', 'listen port (server.port; default 8080, or 8081 for config, 8082 for worker; 0 = any free port)', intIn(0, 65535))
    .option('--host <host>', 'bind address (server.host, default 127.0.0.1)')
    .option('--data <dir>', 'data directory (data.dir, default ./.swarm)')
    .option('--database <url>', 'database URL (store.database; default: SQLite in the data directory)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS and WSS (server.tlsCert)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert (server.tlsKey)')
    .option('--migrate-only', 'apply the store\'s pending migrations, print the schema version and exit (no server)')
    .addHelpText(
      'after',
      '\nRoles: all (default) is the whole hub in one process, with the embedded SQLite store or\nPostgreSQL. With --database postgres://…, run any number of: api (HTTP API, streams, config;\nport 8080), config (the shared-settings service only; 8081), worker (expiry, dead letters,\ntask claims; /healthz, /readyz, /metrics on 8082).',
    )
    .addHelpText(
      'after',
      '\nMigrations: every process applies the pending ones at start (on PostgreSQL under an advisory\nlock, so one migrates and the others wait). --migrate-only does only that and exits 0, printing\nthe schema version (--json: {"current":N,"latest":N}); run it before a rolling upgrade (the\nKubernetes Job swarm-migrate does). Exit 9: a malformed --database URL; 8: PostgreSQL\nunreachable or refusing the login; 10: the schema is newer than this swarm; 14: an embedded\nstore\'s directory is in use by a running hub. Nothing is changed when it fails.\n  SWARM_DATABASE=postgres://swarm@db.internal/swarm swarm serve --migrate-only',
    )
    .addHelpText(
      'after',
      '\nOn first start the hub writes an admin token to <data>/admin.token (mode 0600); the CLI\nrun from the same directory uses it when no --token is given. It is minted once: on a shared\nPostgreSQL, only the first process writes one (lost: swarm token reissue-admin).\nOne hub per embedded store: a second `serve` on the same directory exits with code 14, naming\nthe pid, host and port of the first.\nStop with Ctrl-C or SIGTERM: in-flight sends finish and commit before exit.',
    )
    .action(async (o: ServeOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const role = o.role as ServeRole;
      const { config, sources } = cliConfig(g, {
        flags: { 'server.port': o.port, 'server.host': o.host, 'data.dir': o.data, 'store.database': o.database, 'server.tlsCert': o.tlsCert, 'server.tlsKey': o.tlsKey },
        flagNames: { 'server.port': '--port', 'server.host': '--host', 'data.dir': '--data', 'store.database': '--database', 'server.tlsCert': '--tls-cert', 'server.tlsKey': '--tls-key' },
      });
      if (o.migrateOnly === true) {
        // The server and the store drivers load only here, as below.
        const { migrateOnly } = await import('../../server/serve.js');
        const schema = await migrateOnly(config);
        emit(makeOutput(g), schema, () => `schema version ${schema.current} (the latest this swarm knows: ${schema.latest})`);
        return;
      }
      // Signals are caught before anything starts: a SIGTERM during start-up still shuts down
      // cleanly once the hub is up, instead of killing the process mid-way.
      let requested = false;
      let onSignal = (): void => {
        requested = true;
      };
      const handler = (): void => onSignal();
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      try {
        // The server, its store drivers and Fastify load only here: every other command starts
        // without them (the CLI's start-up time, docs/benchmarks.md).
        const { ROLE_PORTS, startHub } = await import('../../server/serve.js');
        const port = sources['server.port'] === 'default' ? ROLE_PORTS[role] : config['server.port'];
        const hub = await startHub(config, { version, role, port });
        const admin = hub.adminTokenFile === '' ? 'no admin token file here' : `admin token ${hub.adminTokenFile}`;
        if (!g.quiet) process.stderr.write(`swarm hub listening on ${hub.url} (data ${config['data.dir']}, ${admin})\n`);
        const grace = config['shutdown.graceSeconds'];
        await new Promise<void>((resolve, reject) => {
          onSignal = (): void => {
            onSignal = () => undefined;
            const timer = setTimeout(
              () => reject(new HubError('shutting_down', `shutdown took longer than ${grace} s (shutdown.graceSeconds); exiting without waiting`)),
              grace * 1000,
            );
            timer.unref();
            void hub.close().then(
              () => {
                clearTimeout(timer);
                resolve();
              },
              (e: unknown) => {
                clearTimeout(timer);
                reject(e instanceof Error ? e : new Error(String(e)));
              },
            );
          };
          if (requested) onSignal();
        });
      } finally {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      }
    });
}
