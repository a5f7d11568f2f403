// mcp: the MCP server over stdio for one agent (identity from --as / token / config, as for every
// command), or --print-config for an MCP client. stdout carries only the protocol; diagnostics go
// to stderr. The MCP modules are imported when the command runs, so other commands do not load them.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { AGENT_ID_PATTERN } from '../../domain/agent.js';
import { HubError } from '../../errors.js';
import { cliConfig, connection, type GlobalOptions } from '../context.js';
import { oneOf } from '../options.js';

interface McpOptions {
  tools: string;
  printConfig?: string;
  channel?: boolean;
  allow?: string;
}

const TARGETS = ['claude', 'codex', 'cursor', 'gemini'];
const SETS = ['default', 'messaging', 'tasks', 'all'];

/** The swarm executable that runs now, as an absolute path. */
function swarmBinary(): string {
  const argv1 = process.argv[1] ?? 'swarm';
  try {
    return realpathSync(argv1);
  } catch {
    return resolve(argv1);
  }
}

export function registerMcpCommand(program: Command, version: string): void {
  program
    .command('mcp')
    .description('serve the hub to an MCP client (Claude Code, Codex, Cursor, Gemini CLI) over stdio')
    .addOption(new Option('--tools <set>', 'tools to offer: default (14), messaging, tasks, all').default('default').argParser(oneOf(SETS)))
    .addOption(new Option('--print-config <client>', 'print the setup snippet for claude, codex, cursor or gemini, and exit').argParser(oneOf(TARGETS)))
    .option('--channel', 'push deliveries into a Claude Code session (claude/channel)')
    .option('--allow <agents>', 'with --channel: push only messages from these agents (comma list)')
    .addHelpText(
      'after',
      `
The identity is the token's agent (SWARM_TOKEN, --token), or --as AGENT with an admin or captain token.
Resources: swarm://inbox and swarm://tasks, with subscriptions. A revoked token ends the session
(exit 5). See docs/mcp.md.

Examples:
  swarm mcp --print-config claude --as Agent-1
  SWARM_TOKEN=swarm_… swarm mcp
  swarm mcp --tools all`,
    )
    .action(async (o: McpOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      // Checked first, --print-config included: a snippet must not drop flags it was given.
      if (o.allow !== undefined && o.channel !== true) throw new HubError('usage', '--allow goes with --channel');
      if (o.printConfig !== undefined && o.channel === true) {
        throw new HubError('usage', '--print-config prints the plain server; add --channel (and --allow) to the printed arguments by hand (docs/mcp.md)');
      }
      const allow = o.allow === undefined ? null : o.allow.split(',').map((s) => s.trim());
      if (allow !== null && (allow.length === 0 || allow.some((id) => !AGENT_ID_PATTERN.test(id)))) {
        // An empty or mistyped list would hold back every message for a day, silently.
        throw new HubError('usage', `--allow takes agent ids separated by commas, got ${JSON.stringify(o.allow)}`);
      }
      if (o.printConfig !== undefined) {
        const loaded = cliConfig(g);
        const { printConfig } = await import('../../mcp/print-config.js');
        const token = loaded.config['cli.token'];
        process.stdout.write(
          `${printConfig(o.printConfig as 'claude', { bin: swarmBinary(), hub: loaded.config['hub.url'], as: loaded.config['cli.as'] || undefined, token: token === '' ? undefined : token, tools: o.tools })}\n`,
        );
        return;
      }
      await serveStdio(g, { tools: o.tools, channel: o.channel === true, allow, version });
    });
}

async function serveStdio(g: GlobalOptions, o: { tools: string; channel: boolean; allow: string[] | null; version: string }): Promise<void> {
  const [{ SwarmClient }, { createMcpServer }, { enableSubscriptions }, { StdioServerTransport }] = await Promise.all([
    import('../../client/client.js'),
    import('../../mcp/server.js'),
    import('../../mcp/resources.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  const client = new SwarmClient(connection(g));
  // Who we are, before the client's handshake: a bad token or an unreachable hub is one stderr
  // line and its exit code, not a server that fails every call.
  const me = await client.whoami();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  let finish: (e?: HubError) => void = () => undefined;
  const ended = new Promise<HubError | undefined>((res) => (finish = res));
  // A revoked (or expired) token ends the session: the tool call that met it answers its error
  // first, then the process exits with `unauthorized` (exit 5). Nothing it could do would work.
  let ending = false;
  const onHubError = (e: HubError): void => {
    if (e.code !== 'unauthorized' || ending) return;
    ending = true;
    setTimeout(() => finish(e), 100);
  };
  const server = createMcpServer({ client, tools: o.tools as 'default', version: o.version, onHubError });
  const stopWatches = enableSubscriptions(server, client, { onHubError, log });
  let stopChannel: (() => Promise<void>) | undefined;
  if (o.channel) {
    const { attachChannel } = await import('../../mcp/channel.js');
    stopChannel = await attachChannel(server, client, { allow: o.allow });
    // Deliveries are held from here on (pushed once the client has initialized the session).
    log(`swarm mcp: channel attached: pushing ${me.self.id}'s deliveries${o.allow === null ? '' : ` from ${o.allow.join(', ')}`}`);
  }
  const transport = new StdioServerTransport();
  transport.onclose = () => finish();
  process.stdin.once('end', () => finish());
  process.once('SIGINT', () => finish());
  process.once('SIGTERM', () => finish());
  await server.connect(transport);
  log(`swarm mcp: serving ${me.self.id} (${o.tools} tools) from ${connection(g).baseUrl} over stdio`);
  const why = await ended;
  stopWatches();
  await stopChannel?.().catch(() => undefined);
  await server.close().catch(() => undefined);
  if (why !== undefined) throw new HubError('unauthorized', `the session ended: ${why.message}`);
}
