// send, broadcast, read, ack, thread, history.
import type { Command } from 'commander';
import { MESSAGE_TYPES, PRIORITIES } from '../../domain/message.js';
import type { SendBody } from '../../api/schemas.js';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { bodyFrom, collect, intIn, jsonObject, oneOf, sinceTime } from '../options.js';
import { emit, makeOutput, messagesTable, messageView } from '../render.js';

export interface SendOptions {
  priority?: string;
  type?: string;
  subject?: string;
  tag?: string[];
  thread?: string;
  replyTo?: string;
  file?: string;
  meta?: Record<string, unknown>;
  idempotencyKey?: string;
}

function sendOptions(cmd: Command): Command {
  return cmd
    .option('-p, --priority <priority>', `one of ${PRIORITIES.join(', ')} (default regular)`, oneOf(PRIORITIES))
    .option('-t, --type <type>', `one of ${MESSAGE_TYPES.join(', ')} (default text)`, oneOf(MESSAGE_TYPES))
    .option('-s, --subject <subject>', 'one-line subject')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--thread <id>', 'add to an existing thread')
    .option('--reply-to <id>', 'reply to a message (joins its thread)')
    .option('-f, --file <path>', 'read the body from a file, or - for stdin')
    .option('--meta <json>', 'metadata as a JSON object', jsonObject)
    .option('--idempotency-key <key>', 'retrying with the same key stores the message once');
}

/** `swarm send`, `swarm broadcast` (to all) and `swarm legacy --agent/--bulk`. */
export async function sendMessage(g: GlobalOptions, to: string, words: string[], o: SendOptions): Promise<void> {
  const out = makeOutput(g);
  const body: SendBody = {
    to,
    body: bodyFrom(words, o.file),
    priority: o.priority as SendBody['priority'],
    type: o.type as SendBody['type'],
    subject: o.subject,
    tags: o.tag,
    thread_id: o.thread,
    reply_to: o.replyTo,
    metadata: o.meta,
  };
  const r = await clientFor(g).send(body, o.idempotencyKey);
  emit(out, r, () => {
    if (out.quiet) return r.message.id;
    const who = r.recipients.length === 1 ? r.recipients[0] : `${r.recipients.length} agents`;
    return `${r.duplicate ? 'already sent' : 'sent'} ${r.message.id} [${r.message.kind}] to ${who ?? 'nobody'} (thread ${r.message.thread_id})`;
  });
}

/** `swarm broadcast --template NAME` and `swarm legacy --onboarding`: one filled-in message per agent. */
export async function broadcastTemplate(g: GlobalOptions, template: string, o: Pick<SendOptions, 'subject' | 'priority'> = {}): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).sendTemplate({ template, to: 'all', subject: o.subject, priority: o.priority });
  emit(out, r, () => (out.quiet ? r.message_ids.join('\n') : `sent template ${template} to ${r.recipients.length} agents`));
}

export interface HistoryOptions {
  agent?: string;
  channel?: string;
  since?: string;
  type?: string;
  search?: string;
  limit?: number;
}

/** `swarm history` and `swarm legacy --history`. */
export async function showHistory(g: GlobalOptions, o: HistoryOptions): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).history(o);
  emit(out, r, () => messagesTable(r.messages));
}

export function registerMessageCommands(program: Command): void {
  sendOptions(
    program
      .command('send')
      .description('send a message to an agent, a comma list (Agent-1,Agent-2) or all')
      .argument('<to>', 'recipient: agent id, comma list, or all')
      .argument('[message...]', 'the message text (or use --file)'),
  )
    .addHelpText('after', '\nExamples:\n  swarm send Agent-2 "Please review PR 42" --priority high\n  swarm send Agent-1,Agent-3 --file report.md --type report --subject "Infra status"\n  git diff | swarm send Agent-4 -f - --type review')
    .action(async (to: string, words: string[], o: SendOptions, cmd: Command) => sendMessage(cmd.optsWithGlobals(), to, words, o));

  sendOptions(program.command('broadcast').description('send a message to every agent (same as `send all`; captains and admins)').argument('[message...]', 'the message text'))
    .option('--template <name>', 'send a saved template instead, filled in for each agent (one message each)')
    .action(async (words: string[], o: SendOptions & { template?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.template === undefined) return sendMessage(g, 'all', words, o);
      if (words.length > 0 || o.file !== undefined) throw new HubError('usage', 'give the message text or --template, not both');
      return broadcastTemplate(g, o.template, o);
    });

  program
    .command('read')
    .description('show one message from your inbox and mark it read')
    .argument('<id>', 'message id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const item = await clientFor(g).read(id);
      emit(out, item, () => messageView(out, item.message, [`state ${item.delivery.state}`]));
    });

  program
    .command('ack')
    .description('acknowledge messages: done with them (all or nothing; acking twice is harmless)')
    .argument('<ids...>', 'message ids')
    .action(async (ids: string[], _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).ack(ids);
      emit(out, r, () => (out.quiet ? '' : `acked ${r.acked.length}${r.already.length > 0 ? ` (${r.already.length} already acked)` : ''}`));
    });

  program
    .command('thread')
    .description('show the conversation a message belongs to, oldest first')
    .argument('<id>', 'any message id of the thread')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).thread(id);
      emit(out, r, () => r.messages.map((m) => messageView(out, m)).join('\n\n────────\n\n'));
    });

  program
    .command('history')
    .description('search messages you sent or received (captains and admins: all), newest first')
    .option('--agent <id>', 'only messages sent or received by this agent')
    .option('--channel <name>', 'only messages posted to this channel (members)')
    .option('--since <time>', 'only messages since a time (ISO 8601) or an age (30m, 2h, 1d)', (v: string) => sinceTime(v))
    .option('--type <type>', `only this type: ${MESSAGE_TYPES.join(', ')}`, oneOf(MESSAGE_TYPES))
    .option('--search <text>', 'full-text search in subject and body (every word must appear)')
    .option('-n, --limit <n>', 'most messages to show (default 50)', intIn(1, 1000))
    .action(async (o: HistoryOptions, cmd: Command) => showHistory(cmd.optsWithGlobals<GlobalOptions>(), o));
}
