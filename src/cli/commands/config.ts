// config show [--sources]: the settings this directory resolves to, and where each came from.
import type { Command } from 'commander';
import { CONFIG_KEYS, type ConfigKey, SHARED_KEYS } from '../../config/keys.js';
import { HubError } from '../../errors.js';
import { displayValue } from '../../config/load.js';
import { cliConfig, clientFor, type GlobalOptions } from '../context.js';
import { intIn } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('layered configuration (defaults < swarm.yaml < SWARM_* < flags) and the hub’s versioned shared settings');
  registerSharedConfigCommands(config);
  config
    .command('show', { isDefault: true })
    .description('print the resolved settings')
    .option('--sources', 'also show where each value came from')
    .option('--shared', 'show the hub’s shared settings instead (with the version that set each)')
    .addHelpText('after', '\nWithout --shared: this directory’s configuration (defaults < swarm.yaml < SWARM_* < flags).\nWith --shared: the shared settings the running hub holds and applies (swarm config set).')
    .action(async (o: { sources?: boolean; shared?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      if (o.shared === true) {
        const r = await clientFor(g).settings();
        return emit(out, r, () =>
          `shared settings at version ${r.version}\n${table(
            ['KEY', 'VALUE', 'SOURCE'],
            r.settings.map((x) => [x.key, (typeof x.value === 'string' ? x.value : JSON.stringify(x.value)).replace(/\s+/g, ' ').slice(0, 60), x.source === 'hub' ? `hub v${x.version ?? '?'}` : 'local']),
          )}`,
        );
      }
      const loaded = cliConfig(g);
      const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
      const doc = {
        file: loaded.file,
        settings: Object.fromEntries(
          keys.map((k) => [k, o.sources ? { value: displayValue(k, loaded.config[k]), source: loaded.sources[k], env: CONFIG_KEYS[k].env } : displayValue(k, loaded.config[k])]),
        ),
      };
      emit(out, doc, () => {
        const rows = keys.map((k) => {
          const v = displayValue(k, loaded.config[k]);
          const shown = v.length > 60 ? `${v.slice(0, 59)}…` : v;
          return o.sources ? [k, shown, loaded.sources[k]] : [k, shown];
        });
        return `${loaded.file ? `config file: ${loaded.file}\n` : 'config file: none (looked for ./swarm.yaml)\n'}${table(o.sources ? ['KEY', 'VALUE', 'SOURCE'] : ['KEY', 'VALUE'], rows)}`;
      });
    });
}

export function registerSharedConfigCommands(config: Command): void {
  config
    .command('set')
    .description('change a shared setting on the hub (admins): a new version, applied at once in every hub process')
    .argument('<key>', `one of ${SHARED_KEYS.join(', ')}`)
    .argument('<value...>', 'the new value')
    .addHelpText('after', '\nExamples:\n  swarm config set presence.idleSeconds 120\n  swarm config set templates.onboarding "Welcome {agent_id}, read #reports first."')
    .action(async (key: string, words: string[], _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).setSetting(key, words.join(' '));
      emit(out, r, () => r.changes.map((c) => `v${c.version}: ${c.key} ${JSON.stringify(c.previous)} -> ${JSON.stringify(c.value)}`).join('\n'));
    });
  config
    .command('history')
    .description('changes of the shared settings, newest first: version, author, before and after')
    .option('-n, --limit <n>', 'most changes (default 50)', intIn(1, 1000))
    .action(async (o: { limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).settingsHistory(o.limit);
      const show = (v: unknown): string => (v === null ? '(local)' : (typeof v === 'string' ? v : JSON.stringify(v)).replace(/\s+/g, ' ').slice(0, 40));
      emit(out, r, () =>
        r.changes.length === 0
          ? 'no changes yet'
          : table(
              ['VERSION', 'WHEN', 'AUTHOR', 'KEY', 'BEFORE', 'AFTER', 'NOTE'],
              r.changes.map((c) => [`v${c.version}`, ago(c.created_at), c.author, c.key, show(c.previous), show(c.value), c.note]),
            ),
      );
    });
  config
    .command('rollback')
    .description('set every shared setting back to its value at a version (recorded as new versions)')
    .argument('<version>', 'version number (v3 or 3; 0 = before any change)')
    .action(async (v: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const m = /^v?(\d+)$/.exec(v);
      if (m === null) throw new HubError('usage', `'${v}' is not a version: give a number like 3 or v3`);
      const r = await clientFor(g).rollbackSettings(Number(m[1]));
      emit(out, r, () => (r.changes.length === 0 ? 'nothing to change: the settings already are as at that version' : r.changes.map((c) => `v${c.version}: ${c.key} -> ${JSON.stringify(c.value)}`).join('\n')));
    });
}
