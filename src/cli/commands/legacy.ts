// swarm legacy (also installed as `messaging-cli`): the original messaging CLI's flags
// (`python -m src.services.messaging_cli …`), for scripts written against it. Each combination is
// translated onto today's command and run by that command's own function, so the output and exit
// codes are that command's. A combination the original would not have run (two actions, --bulk
// with --agent, a send without --message) is refused before anything reaches the hub.
import type { Command } from 'commander';
import { MESSAGE_TYPES } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { oneOf } from '../options.js';
import { listAgents, onboardAgent, sendWrapup } from './agents.js';
import { broadcastTemplate, sendMessage, showHistory, type SendOptions } from './messages.js';
import { claimNextTask, finishTask, listTasks, showTask } from './tasks.js';

interface LegacyOptions {
  agent?: string;
  message?: string;
  priority?: 'regular' | 'urgent';
  highPriority?: boolean;
  type?: string;
  bulk?: boolean;
  sender?: string;
  listAgents?: boolean;
  checkStatus?: boolean;
  history?: boolean;
  getNextTask?: boolean;
  listTasks?: boolean;
  taskStatus?: string;
  completeTask?: string;
  onboard?: boolean;
  onboarding?: boolean;
  wrapup?: boolean;
  coordinates?: boolean;
  mode?: string;
  paste?: boolean;
  newTabMethod?: string;
}

/**
 * The original CLI's flags and what runs today, in markdown: `swarm legacy --help` prints it, and
 * the README's table is checked against it (test/unit/docs.test.ts).
 */
export const LEGACY_MAPPING: readonly (readonly [original: string, today: string])[] = [
  ['--agent/-a A --message/-m M [--priority regular|urgent] [--type T]', '`swarm send A M -p … -t …`'],
  ['--high-priority', '`--priority urgent`'],
  ['--bulk --message M', '`swarm broadcast M`'],
  ['--sender S', 'accepted when S is the caller, or an agent it may act as (then as with `--as S`); otherwise refused before anything is sent (`forbidden`, exit 6)'],
  ['--list-agents / --check-status', '`swarm agents`: the roster with presence and missions'],
  ['--history [--agent A]', '`swarm history [--agent A]`'],
  ['--get-next-task --agent A', '`swarm --as A task next`'],
  ['--list-tasks [--agent A]', '`swarm task list`; with --agent, `swarm --as A task list --mine`'],
  ['--task-status ID [--agent A]', '`swarm task show ID`; with --agent, as A'],
  ['--complete-task ID [--agent A]', '`swarm task done ID`; with --agent, as A'],
  ['--onboard --agent A', '`swarm onboard A`'],
  ['--onboarding', '`swarm broadcast --template onboarding`: the onboarding message to every agent'],
  ['--wrapup', '`swarm wrapup all`'],
  [
    '--coordinates, --mode pyautogui|inbox, --no-paste, --new-tab-method M',
    'ignored, exit 0, with one line on stderr naming what replaces them: delivery targets (`swarm targets add AGENT tmux SESSION:WINDOW.PANE`, `swarm targets add AGENT file DIR`)',
  ],
];

// The original's --type values. Its agent_to_agent, captain_to_agent, … named who talks to whom,
// which the hub now derives from sender and recipients (the [A2A]/[C2A] tag): such a message is text.
const ORIGINAL_TEXT_TYPES = ['broadcast', 'direct', 'agent_to_agent', 'captain_to_agent', 'system_to_agent', 'human_to_agent'];

function legacyType(v: string): string {
  if ((MESSAGE_TYPES as readonly string[]).includes(v)) return v;
  if (ORIGINAL_TEXT_TYPES.includes(v)) return 'text';
  return oneOf([...MESSAGE_TYPES, ...ORIGINAL_TEXT_TYPES])(v);
}

/** What --agent means beside an action: required or allowed as recipient/filter, the agent to act as, or not allowed. */
type AgentUse = 'target' | 'filter' | 'actor' | 'actor-required' | 'none';

interface Action {
  flag: string;
  given: (o: LegacyOptions) => boolean;
  agent: AgentUse;
  /** Takes --message, --priority, --high-priority, --type. */
  message?: boolean;
  run: (g: GlobalOptions, o: LegacyOptions) => Promise<void>;
}

function sendOptions(o: LegacyOptions): SendOptions {
  // The original's --high-priority overrode --priority.
  return { priority: o.highPriority === true ? 'urgent' : o.priority, type: o.type };
}

// One entry per action flag. With none, --agent A --message M sends to A (SEND), as the original did.
const ACTIONS: Action[] = [
  { flag: '--bulk', given: (o) => o.bulk === true, agent: 'none', message: true, run: (g, o) => sendMessage(g, 'all', [o.message ?? ''], sendOptions(o)) },
  { flag: '--list-agents', given: (o) => o.listAgents === true, agent: 'none', run: (g) => listAgents(g) },
  { flag: '--check-status', given: (o) => o.checkStatus === true, agent: 'none', run: (g) => listAgents(g) },
  { flag: '--history', given: (o) => o.history === true, agent: 'filter', run: (g, o) => showHistory(g, { agent: o.agent }) },
  { flag: '--get-next-task', given: (o) => o.getNextTask === true, agent: 'actor-required', run: (g) => claimNextTask(g) },
  { flag: '--list-tasks', given: (o) => o.listTasks === true, agent: 'actor', run: (g, o) => listTasks(g, { mine: o.agent !== undefined ? true : undefined }) },
  { flag: '--task-status', given: (o) => o.taskStatus !== undefined, agent: 'actor', run: (g, o) => showTask(g, o.taskStatus ?? '') },
  { flag: '--complete-task', given: (o) => o.completeTask !== undefined, agent: 'actor', run: (g, o) => finishTask(g, o.completeTask ?? '') },
  { flag: '--onboard', given: (o) => o.onboard === true, agent: 'target', run: (g, o) => onboardAgent(g, o.agent ?? '', { role: 'agent' }) },
  { flag: '--onboarding', given: (o) => o.onboarding === true, agent: 'none', run: (g) => broadcastTemplate(g, 'onboarding') },
  { flag: '--wrapup', given: (o) => o.wrapup === true, agent: 'none', run: (g) => sendWrapup(g, 'all') },
];

const SEND: Action = { flag: '--agent', given: () => true, agent: 'target', message: true, run: (g, o) => sendMessage(g, o.agent ?? '', [o.message ?? ''], sendOptions(o)) };

const usage = (message: string): HubError => new HubError('usage', `${message} (see swarm legacy --help)`);

/** The one action the flags ask for, or a usage error; undefined when they ask for none. */
function chooseAction(o: LegacyOptions): Action | undefined {
  const given = ACTIONS.filter((a) => a.given(o));
  if (given.length > 1) throw usage(`${given.map((a) => a.flag).join(', ')}: give one action at a time`);
  const action = given[0] ?? (o.agent !== undefined || o.message !== undefined ? SEND : undefined);
  const messageFlags = ['message', 'priority', 'highPriority', 'type'] as const;
  const flagName = { message: '--message', priority: '--priority', highPriority: '--high-priority', type: '--type' } as const;
  if (action === undefined) {
    const stray = messageFlags.find((k) => o[k] !== undefined);
    if (stray !== undefined) throw usage(`${flagName[stray]} goes with a message: --agent A --message M, or --bulk --message M`);
    return undefined;
  }
  if (action.message === true) {
    if (o.message === undefined || o.message.trim() === '') throw usage(`${action === SEND ? '--agent' : action.flag} needs --message M (the text to send)`);
  } else {
    const stray = messageFlags.find((k) => o[k] !== undefined);
    if (stray !== undefined) throw usage(`${flagName[stray]} does not go with ${action.flag}`);
  }
  if (o.agent === undefined && (action.agent === 'target' || action.agent === 'actor-required')) throw usage(`${action.flag} needs --agent A`);
  if (o.agent !== undefined && action.agent === 'none') throw usage(`--agent does not go with ${action.flag}${action.flag === '--bulk' ? ' (--bulk sends to every agent)' : ''}`);
  return action;
}

/**
 * Whom the call acts as: --as, --sender and (for task flags) --agent must agree. --sender S is
 * checked with the hub before anything is sent: the caller itself, or an agent it may act as.
 */
async function actingAs(g: GlobalOptions, o: LegacyOptions, action: Action | undefined): Promise<GlobalOptions> {
  const named: [string, string][] = [];
  if (g.as !== undefined) named.push(['--as', g.as]);
  if (o.sender !== undefined) named.push(['--sender', o.sender]);
  if (o.agent !== undefined && (action?.agent === 'actor' || action?.agent === 'actor-required')) named.push([`--agent (with ${action.flag})`, o.agent]);
  const [first, ...rest] = named;
  const other = rest.find(([, id]) => id !== first?.[1]);
  if (first !== undefined && other !== undefined) throw usage(`${first[0]} ${first[1]} and ${other[0]} ${other[1]} name different agents`);
  if (first === undefined) return g;
  const acting = { ...g, as: first[1] };
  if (o.sender !== undefined) {
    try {
      await clientFor(acting).whoami();
    } catch (e) {
      if (e instanceof HubError && (e.code === 'forbidden' || e.code === 'agent_not_found')) {
        throw new HubError('forbidden', `--sender ${o.sender}: the token may send only as its own agent, or as one it may act for (${e.message})`, { cause: e });
      }
      throw e;
    }
  }
  return acting;
}

function obsoleteFlags(o: LegacyOptions): string[] {
  return [
    o.coordinates === true ? '--coordinates' : '',
    o.mode !== undefined ? `--mode ${o.mode}` : '',
    o.paste === false ? '--no-paste' : '',
    o.newTabMethod !== undefined ? `--new-tab-method ${o.newTabMethod}` : '',
  ].filter((f) => f !== '');
}

export function registerLegacyCommand(program: Command): void {
  program
    .command('legacy')
    .description('the original messaging CLI\'s flags (python -m src.services.messaging_cli …), run as today\'s commands; also installed as messaging-cli')
    .option('-a, --agent <id>', 'the agent to send to (or onboard, or act as with the task flags)')
    .option('-m, --message <text>', 'the message text')
    .option('-p, --priority <priority>', 'regular or urgent (default regular)', oneOf(['regular', 'urgent']))
    .option('--high-priority', 'the same as --priority urgent')
    .option('--type <type>', `one of ${MESSAGE_TYPES.join(', ')}; the original's ${ORIGINAL_TEXT_TYPES.join(', ')} are text`, legacyType)
    .option('--bulk', 'send --message to every agent')
    .option('--sender <id>', 'send as this agent: yourself, or one you may act as')
    .option('--list-agents', 'the roster')
    .option('--check-status', 'the roster with presence and missions')
    .option('--history', 'message history (with --agent: only that agent\'s)')
    .option('--get-next-task', 'claim the best open task for --agent')
    .option('--list-tasks', 'the task board')
    .option('--task-status <id>', 'one task')
    .option('--complete-task <id>', 'mark a task done')
    .option('--onboard', 'onboard --agent')
    .option('--onboarding', 'send the onboarding message to every agent')
    .option('--wrapup', 'send the wrap-up message to every agent')
    .option('--coordinates', 'ignored: no screen coordinates any more (see below)')
    .option('--mode <mode>', 'ignored: pyautogui or inbox (see below)', oneOf(['pyautogui', 'inbox']))
    .option('--no-paste', 'ignored (see below)')
    .option('--new-tab-method <method>', 'ignored (see below)')
    .addHelpText(
      'after',
      `\nThe original flags and what they run today (same output, same exit codes):\n\n${LEGACY_MAPPING.map(([original, today]) => `  ${original}\n      ${today.replace(/`/g, '')}`).join('\n')}\n\nExamples:\n  swarm legacy --agent Agent-2 --message "Please review PR 42" --high-priority\n  messaging-cli --bulk --message "Stand-up in 5 minutes"\n  SWARM_TOKEN=<Agent-1's token> messaging-cli --get-next-task --agent Agent-1`,
    )
    .action(async (o: LegacyOptions, cmd: Command) => {
      // Commander sets paste: true unless --no-paste is given.
      if (Object.entries(o).every(([k, v]) => k === 'paste' && v === true)) return cmd.outputHelp();
      const action = chooseAction(o);
      const obsolete = obsoleteFlags(o);
      if (action === undefined && obsolete.length === 0) throw usage('nothing to do: give --agent A --message M, --bulk --message M, or one of the action flags');
      const acting = await actingAs(cmd.optsWithGlobals<GlobalOptions>(), o, action);
      if (obsolete.length > 0) {
        process.stderr.write(
          `swarm legacy: ignored ${obsolete.join(', ')}: messages reach agents through delivery targets now (swarm targets add AGENT tmux SESSION:WINDOW.PANE, or swarm targets add AGENT file DIR)\n`,
        );
      }
      if (action !== undefined) await action.run(acting, o);
    });
}
