// watch: a live stream of the caller's deliveries over WebSocket, acknowledged once printed.
import type { Command } from 'commander';
import type { WireDeliveryEvent } from '../../api/schemas.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { intIn } from '../options.js';
import { makeOutput, messageView } from '../render.js';

interface WatchOptions {
  ack: boolean;
  presence?: boolean;
  prefetch?: number;
  count?: number;
  for?: number;
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('print your deliveries live as they arrive, acknowledging each once printed')
    .option('--no-ack', 'do not acknowledge: deliveries come back after the visibility timeout')
    .option('--presence', 'also print presence changes of every agent')
    .option('--prefetch <n>', 'most unacknowledged deliveries in flight (default: the hub’s streams.prefetch)', intIn(1, 10000))
    .option('-c, --count <n>', 'exit after this many deliveries', intIn(1, 1_000_000))
    .option('--for <seconds>', 'exit after this many seconds', intIn(1, 86400))
    .addHelpText(
      'after',
      '\nWith --json, prints one JSON event per line (NDJSON): {"type":"delivery",...} or {"type":"presence",...}.\nReconnects by itself when the hub restarts, resuming where it left off. Ctrl-C stops.\n\nExamples:\n  swarm watch\n  swarm watch --json --count 1      # wait for the next message, print it, exit\n  swarm watch --presence --no-ack',
    )
    .action(async (o: WatchOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const stream = await clientFor(g).stream({
        presence: o.presence === true,
        prefetch: o.prefetch,
        onStatus: (status, detail) => {
          if (!out.quiet && status === 'reconnecting') process.stderr.write(`swarm: reconnecting (${detail})…\n`);
        },
      });
      if (!out.quiet && !out.json) process.stderr.write('watching; Ctrl-C to stop\n');
      const stop = (): void => stream.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = o.for === undefined ? null : setTimeout(stop, o.for * 1000);
      let seen = 0;
      try {
        for await (const ev of stream) {
          if (ev.type === 'presence') {
            out.out(out.json ? JSON.stringify(ev) : `presence: ${ev.agent} is ${ev.presence}${ev.mission ? ` (${ev.mission})` : ''}`);
            continue;
          }
          const d = ev as WireDeliveryEvent;
          out.out(out.json ? JSON.stringify(d) : `${messageView(out, d.message, [`attempt ${d.attempt}`])}\n`);
          if (o.ack) await stream.ack([d.message.id]);
          seen += 1;
          if (o.count !== undefined && seen >= o.count) break;
        }
      } finally {
        if (timer !== null) clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        stream.close();
      }
    });
}
