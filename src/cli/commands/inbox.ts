// inbox: the caller's deliveries, with long-polling.
import type { Command } from 'commander';
import { clientFor, type GlobalOptions } from '../context.js';
import { intIn } from '../options.js';
import { emit, inboxTable, makeOutput } from '../render.js';

export function registerInboxCommands(program: Command): void {
  program
    .command('inbox')
    .description('list your messages not yet acknowledged: urgent first, then oldest')
    .option('-u, --unread', 'only messages not yet read')
    .option('-a, --all', 'include acknowledged messages')
    .option('-n, --limit <n>', 'most messages to list (default 50)', intIn(1, 1000))
    .option('-w, --wait <seconds>', 'when the inbox is empty, wait up to this long for a message', intIn(0, 3600))
    .addHelpText('after', '\nExamples:\n  swarm inbox --unread\n  swarm inbox --wait 60 --json     # block until a message arrives (or 60 s)\n  swarm --as Agent-3 inbox         # captains/admins: read for an agent')
    .action(async (o: { unread?: boolean; all?: boolean; limit?: number; wait?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).inbox(o);
      emit(out, r, () => (out.quiet ? r.items.map((i) => i.message.id).join('\n') : inboxTable(out, r.items)));
    });
}
