// report post|list|show, template list|show|set.
import type { Command } from 'commander';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { bodyFrom, collect, intIn } from '../options.js';
import { emit, makeOutput, messagesTable, messageView, table } from '../render.js';

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('shared reports: long markdown documents, posted to #reports by default');
  report
    .command('post')
    .description('post a markdown report')
    .requiredOption('--title <title>', 'the report’s title')
    .requiredOption('-f, --file <path>', 'the markdown file (- for stdin)')
    .option('--to <address>', 'a #channel, an agent, or a comma list (default #reports)')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .action(async (o: { title: string; file: string; to?: string; tag?: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).postReport({ title: o.title, body: bodyFrom([], o.file), to: o.to, tags: o.tag });
      emit(out, r, () => (out.quiet ? r.message.id : `posted report ${r.message.id} to ${r.message.to.join(', ')} (${r.recipients.length} recipients)`));
    });
  report
    .command('list', { isDefault: true })
    .description('reports you may see, newest first')
    .option('--channel <name>', 'only reports posted to this channel')
    .option('--search <text>', 'full-text search')
    .option('-n, --limit <n>', 'most reports (default 50)', intIn(1, 1000))
    .action(async (o: { channel?: string; search?: string; limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).reports(o);
      emit(out, r, () => (r.messages.length === 0 ? 'no reports' : messagesTable(r.messages)));
    });
  report
    .command('show')
    .description('one report in full')
    .argument('<id>', 'report (message) id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).report(id);
      emit(out, r, () => messageView(out, r.message));
    });

  const template = program.command('template').description('message templates with {agent_id}, {role}, {specialty}, {mission}, {sender}, {date}');
  template
    .command('list', { isDefault: true })
    .description('saved templates, and the configured onboarding and wrap-up')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).templates();
      emit(out, r, () => table(['NAME', 'SOURCE', 'UPDATED BY', 'TEXT'], r.templates.map((t) => [t.name, t.source, t.updated_by, t.body.replace(/\s+/g, ' ').slice(0, 60)])));
    });
  template
    .command('show')
    .description('one template')
    .argument('<name>', 'template name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).template(name);
      emit(out, r, () => r.template.body);
    });
  template
    .command('set')
    .description('save a template (captains and admins); unknown placeholders are refused')
    .argument('<name>', 'template name, e.g. survey')
    .argument('[text...]', 'the text (or --file)')
    .option('-f, --file <path>', 'read the text from a file (- for stdin)')
    .addHelpText('after', '\nExample:\n  swarm template set survey "{agent_id}, rate this cycle 1-5 and name one blocker."\n  swarm broadcast --template survey')
    .action(async (name: string, words: string[], o: { file?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      if (words.length === 0 && o.file === undefined) throw new HubError('usage', 'give the template text, or --file PATH');
      const r = await clientFor(g).setTemplate(name, bodyFrom(words, o.file));
      emit(out, r, () => (out.quiet ? '' : `saved template ${r.template.name}`));
    });
}
