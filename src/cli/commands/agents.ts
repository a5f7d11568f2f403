// agents (list, add, remove), status (show, set), onboard, wrapup.
import type { Command } from 'commander';
import { PRESENCE, ROLES } from '../../domain/agent.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { collect, oneOf } from '../options.js';
import { agentsTable, agentView, emit, makeOutput } from '../render.js';

export interface AddOptions {
  role: string;
  specialty?: string;
  cap?: string[];
}

function addOptions(cmd: Command): Command {
  return cmd
    .option('-r, --role <role>', `one of ${ROLES.join(', ')}`, oneOf(ROLES), 'agent')
    .option('-s, --specialty <text>', 'what the agent is good at, e.g. "Infrastructure & DevOps"')
    .option('--cap <capability>', 'a capability tag (repeatable)', collect);
}

/** `swarm agents` and `swarm legacy --list-agents / --check-status`: the roster with presence and missions. */
export async function listAgents(g: GlobalOptions): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).agents();
  emit(out, r, () => agentsTable(r.agents));
}

/** `swarm onboard ID` and `swarm legacy --onboard --agent ID`. */
export async function onboardAgent(g: GlobalOptions, id: string, o: AddOptions & { template?: string }): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).onboard({ id, role: o.role as 'agent', specialty: o.specialty, capabilities: o.cap, template: o.template });
  emit(out, r, () =>
    out.quiet ? r.token : `onboarded ${r.agent.id} (${r.agent.role}); welcome message ${r.message_id}\ntoken (shown once, keep it secret): ${r.token}`,
  );
}

/** `swarm wrapup [AGENT|all]` and `swarm legacy --wrapup`. */
export async function sendWrapup(g: GlobalOptions, agent: string): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).wrapup(agent);
  emit(out, r, () => (out.quiet ? r.message_ids.join('\n') : `wrap-up sent to ${r.recipients.length} agent${r.recipients.length === 1 ? '' : 's'}: ${r.recipients.join(', ')}`));
}

export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description('the roster: list, add and remove agents');
  agents
    .command('list', { isDefault: true })
    .description('list agents with presence (the default)')
    .action(async (_o: unknown, cmd: Command) => listAgents(cmd.optsWithGlobals<GlobalOptions>()));
  addOptions(agents.command('add').description('register an agent and print its token (shown once)').argument('<id>', 'agent id, e.g. Agent-3'))
    .action(async (id: string, o: AddOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).register({ id, role: o.role as 'agent', specialty: o.specialty, capabilities: o.cap });
      emit(out, r, () => (out.quiet ? r.token : `registered ${r.agent.id} (${r.agent.role})\ntoken (shown once, keep it secret): ${r.token}`));
    });
  agents
    .command('remove')
    .description('remove an agent and revoke its tokens (its messages stay in history)')
    .argument('<id>', 'agent id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      await clientFor(g).removeAgent(id);
      emit(out, { removed: id }, () => (out.quiet ? '' : `removed ${id}`));
    });

  const status = program.command('status').description('presence and current mission');
  status
    .command('show', { isDefault: true })
    .description('show an agent’s presence (default: yourself)')
    .argument('[agent]', 'agent id')
    .action(async (agent: string | undefined, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const client = clientFor(g);
      const a = agent === undefined ? (await client.whoami()).self : (await client.agent(agent)).agent;
      emit(out, { agent: a }, () => agentView(a));
    });
  status
    .command('set')
    .description('set your status and, optionally, your current mission')
    .argument('<state>', `one of ${PRESENCE.join(', ')}`)
    .argument('[mission...]', 'free text, e.g. "Migrating CI to the new runners"')
    .action(async (state: string, mission: string[], _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      oneOf(PRESENCE)(state);
      const r = await clientFor(g).setStatus({ status: state as 'online', mission: mission.length > 0 ? mission.join(' ') : undefined });
      emit(out, r, () => (out.quiet ? '' : agentView(r.agent)));
    });

  addOptions(
    program
      .command('onboard')
      .description('register an agent, issue its token and send it the onboarding message')
      .argument('<id>', 'agent id'),
  )
    .option('--template <name>', 'onboarding template to send (default onboarding)')
    .addHelpText('after', '\nThe message is the template named onboarding (`swarm template set onboarding ...`), or the\ntemplates.onboarding setting; {agent_id}, {role}, {specialty} and the other placeholders are filled in.')
    .action(async (id: string, o: AddOptions & { template?: string }, cmd: Command) => onboardAgent(cmd.optsWithGlobals<GlobalOptions>(), id, o));

  program
    .command('wrapup')
    .description('send the end-of-cycle message (templates.wrapup) to one agent or all')
    .argument('[agent]', 'agent id, or all', 'all')
    .action(async (agent: string, _o: unknown, cmd: Command) => sendWrapup(cmd.optsWithGlobals<GlobalOptions>(), agent));
}
