// targets add|list|status|test|retry|remove: where the hub pushes an agent's messages besides its
// inbox (webhook, file, tmux, command), each with a filter. The worker (or the embedded hub)
// pushes; `status` shows each target's queue, breaker, last success and last error.
import { type Command, InvalidArgumentError } from 'commander';
import type { TargetCreateBody, WireTarget, WireTargetStatus } from '../../api/schemas.js';
import { AGENT_ID_PATTERN } from '../../domain/agent.js';
import { MESSAGE_TYPES, PRIORITIES } from '../../domain/message.js';
import { TARGET_KINDS, TMUX_PANE_PATTERN } from '../../domain/target.js';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { collect, oneOf } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';

interface AddOptions {
  minPriority?: string;
  type?: string[];
  channel?: string[];
  from?: string[];
  secret?: string;
  timeout?: string;
  statusMirror?: boolean;
  allowShell?: boolean;
  idle?: string;
  socket?: string;
}

const ADD_HELP = `
Kinds:
  webhook URL            POST each message as JSON, signed (X-Swarm-Signature: v1=HMAC-SHA256 of
                         "<timestamp>.<body>" with the secret printed once); docs/targets.md shows
                         how to verify it
  file DIR               write DIR/agent_workspaces/<Agent>/inbox/<time>_<id>.md, whole or not at all
  tmux SESSION:WIN.PANE  paste into the agent's TUI in that pane (refused if it runs a shell unless
                         --allow-shell), checked on screen before Enter
  command -- ARGV...     run ARGV (no shell) with the delivery as JSON on stdin; exit 0 = done

An agent adds its own webhooks; captains and admins anyone's. file, tmux and command act on the
hub's host with its privileges: admins only. A push does not acknowledge the message: the agent
still acks it (the pushed text carries its id).

Examples:
  swarm targets add Agent-1 webhook https://agent1.example/hook --min-priority high
  swarm targets add Agent-1 file /srv/swarm --status-mirror
  swarm targets add Agent-1 tmux agents:1.0 --idle 2
  swarm targets add Agent-1 command -- /usr/local/bin/notify-agent --quiet
`;

function agentId(v: string): string {
  if (!AGENT_ID_PATTERN.test(v)) throw new InvalidArgumentError('expected an agent id.');
  return v;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds.');
  return n;
}

function usage(message: string): HubError {
  return new HubError('validation_failed', message);
}

/** The request body from `add`'s kind, its arguments and options. */
export function addBody(kind: string, args: string[], o: AddOptions): TargetCreateBody {
  const filter = {
    ...(o.minPriority === undefined ? {} : { min_priority: o.minPriority as (typeof PRIORITIES)[number] }),
    ...(o.type === undefined ? {} : { types: o.type as (typeof MESSAGE_TYPES)[number][] }),
    ...(o.channel === undefined ? {} : { channels: o.channel.map((c) => c.replace(/^#/, '')) }),
    ...(o.from === undefined ? {} : { senders: o.from }),
  };
  const one = (what: string): string => {
    if (args.length !== 1) throw usage(`targets add … ${kind} takes one ${what}${args.length === 0 ? '' : `, not ${args.length} arguments`}`);
    return args[0] as string;
  };
  const only = (allowed: (keyof AddOptions)[]): void => {
    const kindOptions: (keyof AddOptions)[] = ['secret', 'timeout', 'statusMirror', 'allowShell', 'idle', 'socket'];
    const extra = kindOptions.filter((k) => o[k] !== undefined && !allowed.includes(k));
    if (extra.length > 0) throw usage(`--${extra[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to a ${kind} target`);
  };
  switch (kind) {
    case 'webhook':
      only(['secret', 'timeout']);
      return { kind, url: one('URL'), ...(o.secret === undefined ? {} : { secret: o.secret }), ...(o.timeout === undefined ? {} : { timeout_seconds: seconds(o.timeout) }), ...filter };
    case 'file':
      only(['statusMirror']);
      return { kind, dir: one('directory'), ...(o.statusMirror === true ? { status_mirror: true } : {}), ...filter };
    case 'tmux': {
      only(['allowShell', 'idle', 'socket']);
      const pane = one('pane (SESSION:WINDOW.PANE)');
      if (!TMUX_PANE_PATTERN.test(pane)) throw usage(`'${pane}' is not a tmux pane: write SESSION:WINDOW.PANE, e.g. agents:1.0`);
      return {
        kind,
        pane,
        ...(o.allowShell === true ? { allow_shell: true } : {}),
        ...(o.idle === undefined ? {} : { idle_seconds: seconds(o.idle) }),
        ...(o.socket === undefined ? {} : { socket: o.socket }),
        ...filter,
      };
    }
    case 'command':
      only(['timeout']);
      if (args.length === 0) throw usage('targets add … command needs the program to run: command -- PROGRAM [ARG...]');
      return { kind, argv: args, ...(o.timeout === undefined ? {} : { timeout_seconds: seconds(o.timeout) }), ...filter };
    default:
      throw usage(`'${kind}' is not a target kind: ${TARGET_KINDS.join(', ')}`);
  }
}

function filterText(t: WireTarget): string {
  const f = t.filter;
  const parts = [f.min_priority === 'low' ? '' : `>=${f.min_priority}`, f.types === null ? '' : f.types.join(','), f.channels === null ? '' : f.channels.map((c) => `#${c}`).join(','), f.senders === null ? '' : `from ${f.senders.join(',')}`];
  const text = parts.filter((p) => p !== '').join(' ');
  return text === '' ? 'all' : text;
}

function targetsTable(targets: WireTarget[]): string {
  return table(
    ['ID', 'AGENT', 'KIND', 'WHERE', 'FILTER', 'CREATED'],
    targets.map((t) => [t.id, t.agent, t.kind, t.where, filterText(t), ago(t.created_at)]),
  );
}

function statusTable(targets: WireTargetStatus[]): string {
  return table(
    ['ID', 'AGENT', 'KIND', 'BREAKER', 'PENDING', 'DEAD', 'OLDEST', 'LAST SUCCESS', 'LAST ERROR'],
    targets.map((t) => [
      t.id,
      t.agent,
      t.kind,
      t.breaker.state === 'open' && t.breaker.until !== null ? `open until ${t.breaker.until}` : t.breaker.state,
      String(t.backlog.pending),
      String(t.backlog.dead),
      t.backlog.oldest_at === null ? '-' : ago(t.backlog.oldest_at),
      t.last_success_at === null ? 'never' : ago(t.last_success_at),
      t.last_error === null ? '-' : `${ago(t.last_error_at)}: ${t.last_error}`,
    ]),
  );
}

export function registerTargetCommands(program: Command): void {
  const targets = program.command('targets').description('delivery targets: push an agent’s messages to a webhook, a directory, a tmux pane or a command');
  targets
    .command('add')
    .description('add a delivery target for an agent (see the kinds below)')
    .argument('<agent>', 'whose messages to push', agentId)
    .argument('<kind>', TARGET_KINDS.join(' | '), oneOf(TARGET_KINDS))
    .argument('[args...]', 'webhook URL | file DIR | tmux SESSION:WINDOW.PANE | command -- PROGRAM [ARG...]')
    .option('--min-priority <priority>', `push only this priority and above: ${PRIORITIES.join(', ')}`, oneOf(PRIORITIES))
    .option('--type <type>', `push only this message type (repeatable): ${MESSAGE_TYPES.join(', ')}`, (v: string, prev: string[] = []) => collect(oneOf(MESSAGE_TYPES)(v), prev))
    .option('--channel <name>', 'push only messages posted to this channel (repeatable)', collect)
    .option('--from <agent>', 'push only messages from this agent (repeatable)', (v: string, prev: string[] = []) => collect(agentId(v), prev))
    .option('--secret <secret>', 'webhook: the signing secret (at least 16 characters; default: generated and printed once)')
    .option('--timeout <seconds>', 'webhook (default 10) or command (default 30): how long one push may take')
    .option('--status-mirror', 'file: also keep agent_workspaces/<Agent>/status.json')
    .option('--allow-shell', 'tmux: paste even into a pane running a shell (its text would be typed at a prompt)')
    .option('--idle <seconds>', 'tmux: wait for the pane to stay unchanged this long before pasting')
    .option('--socket <path>', 'tmux: the server socket (tmux -S)')
    .addHelpText('after', ADD_HELP)
    .action(async (agent: string, kind: string, args: string[], o: AddOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const body = addBody(kind, args, o);
      const r = await clientFor(g).addTarget(agent, body);
      emit(out, r, () =>
        out.quiet
          ? r.target.id
          : `target ${r.target.id}: ${r.target.kind} ${r.target.where} for ${r.target.agent} (${filterText(r.target)})${r.secret === null ? '' : `\nsigning secret (shown once, keep it secret): ${r.secret}`}`,
      );
    });
  targets
    .command('list', { isDefault: true })
    .description('delivery targets (of one agent, or all: captains and admins)')
    .option('--agent <id>', 'only this agent’s targets', agentId)
    .action(async (o: { agent?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).targets(o.agent);
      emit(out, r, () => (r.targets.length === 0 ? 'no delivery targets' : targetsTable(r.targets)));
    });
  targets
    .command('status')
    .description('each target’s queue (pending, dead, oldest), breaker, last success and last error')
    .option('--agent <id>', 'only this agent’s targets', agentId)
    .action(async (o: { agent?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).targetStatus(o.agent);
      emit(out, r, () => (r.targets.length === 0 ? 'no delivery targets' : statusTable(r.targets)));
    });
  targets
    .command('test')
    .description('push a test message to the target now (outside its queue) and say how it went; exit 15 if it failed')
    .argument('<id>', 'target id (see `swarm targets list`)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).testTarget(id);
      if (!r.ok && !out.json) throw new HubError('target_failed', `the test push failed after ${r.ms.toFixed(0)} ms: ${r.reason ?? 'failed'}: ${r.error ?? ''}`, { details: { target: id } });
      emit(out, r, () => `ok in ${r.ms.toFixed(0)} ms`);
      if (!r.ok) throw new HubError('target_failed', `the test push failed: ${r.reason ?? 'failed'}`, { details: { target: id } });
    });
  targets
    .command('retry')
    .description('put the target’s dead pushes back in its queue')
    .argument('<id>', 'target id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).retryTarget(id);
      emit(out, r, () => (out.quiet ? '' : `${r.retried} dead push${r.retried === 1 ? '' : 'es'} back in the queue`));
    });
  targets
    .command('remove')
    .description('remove a delivery target and its queue of pushes')
    .argument('<id>', 'target id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).removeTarget(id);
      emit(out, r, () => (out.quiet ? '' : `removed ${r.removed.id} (${r.removed.kind} ${r.removed.where} for ${r.removed.agent})`));
    });
}
