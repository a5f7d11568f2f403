// audit list | verify: the audit trail (admins). `verify` prints its report, then fails with
// `audit_broken` (exit 12) when the chain has problems, so scripts and cron jobs can alert on it.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { intIn, sinceTime } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';

function anchorArg(v: string): string {
  if (!/^\d+:[0-9a-f]{64}$/.test(v)) throw new InvalidArgumentError('expected SEQ:HASH, the head an earlier `swarm audit verify` printed.');
  return v;
}

const brief = (detail: Record<string, unknown>): string => {
  const text = Object.entries(detail)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return text.length > 70 ? `${text.slice(0, 69)}…` : text;
};

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit trail: who did what security-relevant thing, in a tamper-evident chain (admins)');
  audit
    .command('list', { isDefault: true })
    .description('audit records, newest first')
    .option('--since <time>', 'only records since a time (ISO 8601) or an age (30m, 2h, 1d)', (v: string) => sinceTime(v))
    .option('--actor <agent>', 'only records of this actor (anonymous: failed authentications)')
    .option('--action <action>', 'only this action (auth.failed, act.as, agent.register, agent.remove, token.create, config.set, config.rollback)')
    .option('-n, --limit <n>', 'most records (default 50)', intIn(1, 1000))
    .action(async (o: { since?: string; actor?: string; action?: string; limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).auditRecords({ since: o.since, actor: o.actor, action: o.action, limit: o.limit });
      emit(out, r, () =>
        r.records.length === 0
          ? 'no audit records'
          : table(
              ['SEQ', 'WHEN', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'REQUEST', 'DETAIL'],
              r.records.map((x) => [String(x.seq), ago(x.at), x.actor, x.action, x.target, x.outcome, x.request_id ?? '', brief(x.detail)]),
            ),
      );
    });
  audit
    .command('verify')
    .description('walk the chain and report every edited, deleted or reordered record; exit 12 when any is found')
    .option('--anchor <seq:hash>', 'an earlier head kept elsewhere: that record must still be there, unchanged (catches a rewritten or truncated tail)', anchorArg)
    .addHelpText(
      'after',
      '\nPrints the head (SEQ:HASH of the last record): keep it outside the hub (a ticket, another machine) and pass it\nas --anchor next time; verification alone cannot tell a chain rewritten from some point on with valid hashes.',
    )
    .action(async (o: { anchor?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).verifyAudit(o.anchor);
      const head = `${r.head === null ? 'empty chain' : `head ${r.head.seq}:${r.head.hash}`}${r.starts_after > 0 ? `; records 1–${r.starts_after} removed by retention, proven from there` : ''}`;
      emit(out, r, () =>
        r.ok
          ? `audit chain intact: ${r.records} records, ${head}`
          : [
              `audit chain BROKEN: ${r.problem_count} problem${r.problem_count === 1 ? '' : 's'} in ${r.records} records (${head})`,
              table(
                ['SEQ', 'PROBLEM', 'WHAT'],
                r.problems.map((p) => [String(p.seq), p.kind, p.message]),
              ),
              r.problem_count > r.problems.length ? `… and ${r.problem_count - r.problems.length} more` : '',
            ]
              .filter((s) => s !== '')
              .join('\n'),
      );
      if (!r.ok) {
        const first = r.problems[0]?.message ?? '';
        throw new HubError('audit_broken', `${r.problem_count} problem${r.problem_count === 1 ? '' : 's'} in the audit chain${first === '' ? '' : `; first: ${first}`}`);
      }
    });
}
