// nack, queue stats, dlq list|retry: returning deliveries and looking after what failed.
import type { Command } from 'commander';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { intIn } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';

export function registerQueueCommands(program: Command): void {
  program
    .command('nack')
    .description('return messages to your inbox unacknowledged, to be delivered again (now or after --delay)')
    .argument('<ids...>', 'message ids')
    .option('--delay <seconds>', 'not before this many seconds', intIn(0, 86400))
    .action(async (ids: string[], o: { delay?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).nack(ids, o.delay);
      emit(out, r, () => (out.quiet ? '' : `returned ${r.nacked.length}${o.delay ? ` (due in ${o.delay} s)` : ''}`));
    });

  const queue = program.command('queue').description('queue depth, leases in flight, redeliveries, dead letters');
  queue
    .command('stats', { isDefault: true })
    .description('per agent: depth, in flight, redeliveries, dead (yours; captains and admins: everyone’s)')
    .option('--agent <id>', 'only this agent')
    .action(async (o: { agent?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).queueStats(o.agent);
      emit(out, r, () =>
        r.agents.length === 0
          ? 'no deliveries yet'
          : table(
              ['AGENT', 'DEPTH', 'IN FLIGHT', 'DELAYED', 'REDELIVERIES', 'DEAD', 'ACKED', 'EXPIRED', 'STREAMS'],
              r.agents.map((a) => [a.agent, ...[a.depth, a.in_flight, a.delayed, a.redeliveries, a.dead, a.acked, a.expired, a.streams].map(String)]),
            ),
      );
    });

  const dlq = program.command('dlq').description('dead letters: deliveries never acknowledged after delivery.maxAttempts');
  dlq
    .command('list', { isDefault: true })
    .description('list dead letters with the reason (yours; captains and admins: everyone’s)')
    .option('--agent <id>', 'only this agent')
    .option('-n, --limit <n>', 'most to list (default 100)', intIn(1, 1000))
    .action(async (o: { agent?: string; limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).deadLetters(o);
      emit(out, r, () =>
        r.dead.length === 0
          ? 'no dead letters'
          : table(
              ['ID', 'AGENT', 'FROM', 'ATTEMPTS', 'DIED', 'REASON'],
              r.dead.map((d) => [d.message.id, d.delivery.recipient, d.message.from, String(d.attempts), ago(d.dead_at), d.reason]),
            ),
      );
    });
  dlq
    .command('retry')
    .description('put dead letters back in their inboxes with a fresh attempt count')
    .argument('[ids...]', 'message ids (or --all)')
    .option('--agent <id>', 'only this agent’s dead letters')
    .option('--all', 'every dead letter you may see')
    .action(async (ids: string[], o: { agent?: string; all?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      if (ids.length === 0 && o.all !== true) throw new HubError('usage', 'name the message ids to retry, or --all');
      if (ids.length > 0 && o.all === true) throw new HubError('usage', 'give ids or --all, not both');
      const r = await clientFor(g).retryDead({ agent: o.agent, ids: ids.length > 0 ? ids : undefined });
      emit(out, r, () => (out.quiet ? '' : `retried ${r.retried.length}`));
    });
}
