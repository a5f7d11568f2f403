// demo: a hub of its own seeded with the original swarm, and simulated agents working it at a
// readable pace, to watch on the dashboard (src/cli/demo/). Bad flags are refused before anything
// is created.
import { randomInt } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { HubError } from '../../errors.js';
import { cliConfig, type GlobalOptions } from '../context.js';
import { intIn } from '../options.js';

/** Fastest pace: 25 events a second, which the embedded hub keeps up with on a laptop. */
export const MAX_SPEED = 50;
const MAX_FOR_SECONDS = 7 * 86400;
export const ROSTER_SIZE = 8;

interface DemoFlags {
  data?: string;
  port: number;
  speed: number;
  agents: number;
  for?: number;
  seed?: number;
}

export function speed(v: string): number {
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(n > 0 && n <= MAX_SPEED)) throw new InvalidArgumentError(`expected a number above 0 and at most ${MAX_SPEED} (1: an event every two seconds).`);
  return n;
}

/** `45s`, `10m`, `2h`, `1d`, or seconds; in seconds. */
export function duration(v: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(v);
  const n = m === null ? NaN : Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (!(n >= 1 && n <= MAX_FOR_SECONDS)) throw new InvalidArgumentError('expected a duration from 1s to 7d, like 90s, 10m, 2h or 1d.');
  return n;
}

/** --data must be new or empty: the demo seeds a new hub, never one that holds other data. */
function checkDataDir(dir: string): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new HubError('usage', `--data ${dir} is not a directory`);
    entries = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (e instanceof HubError) throw e;
    throw new HubError('usage', `cannot use --data ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (entries.length > 0) {
    throw new HubError('usage', `--data ${dir} is not empty: the demo seeds a new hub, so give a new or empty directory (a hub kept by an earlier demo runs again with swarm serve --data DIR)`);
  }
}

export function registerDemoCommand(program: Command, version: string): void {
  program
    .command('demo')
    .description('a hub seeded with the original eight-agent swarm, and simulated agents working it live: watch it on the dashboard')
    .option('--data <dir>', 'keep the demo hub in this new or empty directory (default: a temporary one, removed on exit)')
    .option('--port <port>', 'listen port on 127.0.0.1 (default 0: any free port)', intIn(0, 65535), 0)
    .option('--speed <n>', `pace: 1 is an event every two seconds, 10 five a second (above 0, at most ${MAX_SPEED})`, speed, 1)
    .option('--agents <n>', `how many of the ${ROSTER_SIZE} agents: the captain Agent-4 and the first N-1 others`, intIn(1, ROSTER_SIZE), ROSTER_SIZE)
    .option('--for <duration>', 'stop by itself after this long: 90s, 10m, 2h, 1d (default: run until Ctrl-C)', duration)
    .option('--seed <n>', 'the same seed plays the same events (default: a random one, printed)', intIn(0, 2 ** 31 - 1))
    .addHelpText(
      'after',
      `
Starts a hub with the original swarm: Agent-1 … Agent-8 with their specialties, Agent-4 as
captain, the channels #reports, #reviews and #deployments, and for each agent contracts fitting
its specialty whose points add up to its contract points. The agents then talk in the channels,
claim, finish, review and verify contracts and post reports, each with its own token, as real
agents would. When every contract is verified, the captain wraps up and a new cycle begins.

It prints the dashboard's URL and an observer token (read-only: the roster, channels, board,
leaderboard and queue numbers), then one line per event; -q prints only the URL and the token,
--json one JSON line at start and one per event. The admin token is in DATA/admin.token.

Stops after --for or on Ctrl-C/SIGTERM: the hub drains and shuts down, the temporary directory
is removed, exit 0. Bad flags, or a --data directory that is not empty: exit 2, nothing created.

Example:
  swarm demo --speed 2 --for 10m          # then open the printed URL, sign in with the token`,
    )
    .action(async (o: DemoFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.data !== undefined) checkDataDir(o.data);
      // The demo's hub is its own: embedded, on loopback, plain HTTP, whatever swarm.yaml or
      // SWARM_* say for `swarm serve`. Its log stays at warnings unless asked otherwise: the
      // terminal shows the swarm, not the hub's JSON lines.
      const { config, sources } = cliConfig(g, {
        flags: { 'server.host': '127.0.0.1', 'store.database': '', 'server.tlsCert': '', 'server.tlsKey': '' },
      });
      const stop = new AbortController();
      const handler = (): void => stop.abort();
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      try {
        const { runDemo } = await import('../demo/run.js');
        await runDemo({
          config: { ...config, 'log.level': sources['log.level'] === 'default' ? 'warn' : config['log.level'] },
          port: o.port,
          data: o.data,
          speed: o.speed,
          agents: o.agents,
          forMs: o.for === undefined ? null : o.for * 1000,
          seed: o.seed ?? randomInt(2 ** 31 - 1),
          version,
          signal: stop.signal,
          json: g.json === true,
          quiet: g.quiet === true,
          out: (line) => process.stdout.write(`${line}\n`),
          warn: (line) => process.stderr.write(`${line}\n`),
        });
      } finally {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      }
    });
}
