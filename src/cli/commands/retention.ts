// retention run [--dry-run]: remove now the acknowledged messages retention.messages no longer
// keeps (the worker does it every retention.intervalSeconds), or see what would go.
import type { Command } from 'commander';
import { clientFor, type GlobalOptions } from '../context.js';
import { emit, makeOutput } from '../render.js';

export function registerRetentionCommands(program: Command): void {
  const retention = program.command('retention').description('message retention (retention.messages): run it now, or see what it would remove');
  retention
    .command('run')
    .description('remove the acknowledged messages whose time is up, in batches (admins); --dry-run only counts them')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .addHelpText('after', '\nRules come from the hub\'s retention.messages setting, e.g. *=90,report=365,#decisions=forever:\na channel rule wins over a type rule, which wins over *. Unread messages, dead letters and\nmessages with a push still queued for a delivery target are never removed.\n')
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).runRetention(o.dryRun === true);
      emit(out, r, () => {
        const audit = r.audit_removed > 0 ? `; ${r.audit_removed} audit records ${r.dry_run ? 'would go' : 'removed'}` : '';
        if (r.rules === '') return `retention.messages is empty: every message is kept${audit}`;
        const rules = Object.entries(r.by_rule).map(([k, n]) => `${k}: ${n}`).join(', ');
        return `${r.dry_run ? 'would remove' : 'removed'} ${r.removed} of ${r.examined} messages examined (${r.rules})${rules === '' ? '' : `; by rule ${rules}`}${r.archive === null ? '' : `; archived in ${r.archive}`}${audit}`;
      });
    });
}
