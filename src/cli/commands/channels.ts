// channel create|join|leave|list|members|history.
import type { Command } from 'commander';
import { clientFor, type GlobalOptions } from '../context.js';
import { intIn, sinceTime } from '../options.js';
import { emit, makeOutput, messagesTable, table } from '../render.js';

export function registerChannelCommands(program: Command): void {
  const channel = program.command('channel').description('channels: topics whose messages reach every member (#deployments, #reviews, #reports)');
  channel
    .command('list', { isDefault: true })
    .description('channels, member counts, and whether you are a member')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).channels();
      emit(out, r, () =>
        table(['CHANNEL', 'MEMBERS', 'MEMBER', 'AUTO-JOIN', 'DESCRIPTION'], r.channels.map((c) => [`#${c.name}`, String(c.members), c.member ? 'yes' : '', c.auto_join ? 'yes' : '', c.description])),
      );
    });
  channel
    .command('create')
    .description('create a channel; you join it')
    .argument('<name>', '#name')
    .option('-d, --description <text>', 'what the channel is for')
    .option('--auto-join', 'every agent registered from now on joins it (captains and admins)')
    .action(async (name: string, o: { description?: string; autoJoin?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).createChannel({ name, description: o.description, auto_join: o.autoJoin });
      emit(out, r, () => (out.quiet ? '' : `created #${r.channel.name}`));
    });
  for (const [verb, what] of [
    ['join', 'join a channel: its messages reach you'],
    ['leave', 'leave a channel'],
  ] as const) {
    channel
      .command(verb)
      .description(what)
      .argument('<name>', '#name')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const out = makeOutput(g);
        const client = clientFor(g);
        const r = verb === 'join' ? await client.joinChannel(name) : await client.leaveChannel(name);
        emit(out, r, () => (out.quiet ? '' : `${r.changed ? (verb === 'join' ? 'joined' : 'left') : verb === 'join' ? 'already in' : 'was not in'} #${r.channel}`));
      });
  }
  channel
    .command('members')
    .description('members of a channel')
    .argument('<name>', '#name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).channelMembers(name);
      emit(out, r, () => (r.members.length === 0 ? 'no members' : r.members.join('\n')));
    });
  channel
    .command('history')
    .description('messages posted to a channel, newest first (members)')
    .argument('<name>', '#name')
    .option('--search <text>', 'full-text search (every word must appear)')
    .option('--since <time>', 'ISO 8601 time or an age (30m, 2h, 1d)', (v: string) => sinceTime(v))
    .option('-n, --limit <n>', 'most messages (default 50)', intIn(1, 1000))
    .action(async (name: string, o: { search?: string; since?: string; limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).channelHistory(name, o);
      emit(out, r, () => messagesTable(r.messages));
    });
}
