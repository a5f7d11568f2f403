// migrate: moves a laptop hub (embedded SQLite) up to PostgreSQL, and proves the copy.
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { emit, makeOutput, table } from '../render.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy an embedded hub (SQLite) into PostgreSQL: every agent, token, message, delivery, channel, task, review, template, setting and audit record; then compare counts and verify the audit chain')
    .requiredOption('--from <dir>', 'the embedded hub’s data directory, e.g. ./.swarm (stop that hub first)')
    .requiredOption('--to <url>', 'postgres://user:password@host:port/database (must not already hold a hub)')
    .option('--schema <name>', 'PostgreSQL schema to create the tables in (default: the connection’s)')
    .addHelpText('after', '\nAfterwards start the hub with --database <url> (and SWARM_DB_SCHEMA=<name> if you used --schema).\nExample:\n  swarm migrate --from ./.swarm --to postgres://swarm@db.internal/swarm')
    .action(async (o: { from: string; to: string; schema?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      // Both store drivers load only for this command (the CLI's start-up time).
      const { transfer } = await import('../../store/transfer.js');
      const r = await transfer({
        from: o.from,
        to: o.to,
        schema: o.schema,
        onTable: (t, n) => {
          if (!out.quiet && !out.json) process.stderr.write(`copied ${t}: ${n}\n`);
        },
      });
      emit(out, r, () => `${table(['TABLE', 'SOURCE', 'TARGET'], r.tables.map((t) => [t.table, String(t.source), String(t.target)]))}\nall counts match; audit chain verified in the copy (${r.audit.records} records${r.audit.head === null ? '' : `, head ${r.audit.head}`}); ${r.seconds.toFixed(1)} s`);
    });
}
