// The command table: global flags and every command group, in one place.
import { Command, Option } from 'commander';
import { EXIT_CODES, HubError } from '../errors.js';
import { registerAgentCommands } from './commands/agents.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerChannelCommands } from './commands/channels.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerInboxCommands } from './commands/inbox.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLegacyCommand } from './commands/legacy.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerMessageCommands } from './commands/messages.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerReportCommands } from './commands/reports.js';
import { registerServeCommand } from './commands/serve.js';
import { registerRetentionCommands } from './commands/retention.js';
import { registerTargetCommands } from './commands/targets.js';
import { registerTaskCommands } from './commands/tasks.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerWatchCommand } from './commands/watch.js';
import { table } from './render.js';

export const HELP_TOPICS: Record<string, string> = {
  'exit-codes': `swarm exit codes (stable; scripts may rely on them)\n\n${table(
    ['EXIT', 'MEANING', 'ERROR CODES'],
    EXIT_CODES.map((r) => [String(r.exit), r.meaning, r.codes.join(', ')]),
  )}\n\nErrors are printed to stderr as one line: "swarm: <code>: <what went wrong>".`,
};

export function buildProgram(version: string): Command {
  const program = new Command('swarm')
    .description('Swarm: the messaging and coordination hub for swarms of AI agents')
    .version(version, '-V, --version')
    .addOption(new Option('--hub <url>', 'hub URL (hub.url, default http://127.0.0.1:8080)'))
    .addOption(new Option('--as <agent>', 'act for this agent (admin or captain token)'))
    .addOption(new Option('--token <token>', 'bearer token (default: SWARM_TOKEN, then ./.swarm/admin.token)'))
    .addOption(new Option('--ca <file>', 'PEM file of a CA to trust for an https:// hub (cli.ca)'))
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file (default ./swarm.yaml when present)')
    .option('-q, --quiet', 'print only what scripts need (ids, tokens)')
    .option('--no-color', 'no ANSI colours')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Quick start:
  swarm serve                              # hub on http://127.0.0.1:8080, data in ./.swarm
  swarm onboard Agent-1 --specialty "Integration & Core Systems"
  SWARM_TOKEN=<token> swarm inbox
  swarm demo                               # or watch a simulated swarm on the dashboard

More: swarm help <command>, swarm help exit-codes`,
    );
  program.helpCommand(false);
  registerServeCommand(program, version);
  registerDemoCommand(program, version);
  registerMessageCommands(program);
  registerInboxCommands(program);
  registerWatchCommand(program);
  registerQueueCommands(program);
  registerAgentCommands(program);
  registerChannelCommands(program);
  registerTaskCommands(program);
  registerReportCommands(program);
  registerConfigCommands(program);
  registerAuditCommands(program);
  registerTokenCommands(program);
  registerTargetCommands(program);
  registerRetentionCommands(program);
  registerMigrateCommand(program);
  registerBackupCommands(program, version);
  registerKeyCommands(program);
  registerMcpCommand(program, version);
  registerLegacyCommand(program);
  program
    .command('help')
    .description('help for a command, or a topic: exit-codes')
    .argument('[topic...]', 'command name or topic')
    .action((topic: string[]) => {
      const name = topic.join(' ');
      if (name === '') return program.outputHelp();
      const text = HELP_TOPICS[name];
      if (text !== undefined) return void process.stdout.write(`${text}\n`);
      let cmd: Command | undefined = program;
      for (const part of topic) cmd = cmd?.commands.find((c) => c.name() === part || c.aliases().includes(part));
      if (cmd === undefined) throw new HubError('usage', `no command or topic '${name}' (topics: ${Object.keys(HELP_TOPICS).join(', ')})`);
      cmd.outputHelp();
    });
  return program;
}
