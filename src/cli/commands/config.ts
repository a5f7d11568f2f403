// config show [--sources]: the settings this directory resolves to, and where each came from.
import type { Command } from 'commander';
import { CONFIG_KEYS, type ConfigKey } from '../../config/keys.js';
import { displayValue } from '../../config/load.js';
import { cliConfig, type GlobalOptions } from '../context.js';
import { emit, makeOutput, table } from '../render.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('layered configuration: defaults < swarm.yaml < SWARM_* < flags');
  config
    .command('show', { isDefault: true })
    .description('print the resolved settings')
    .option('--sources', 'also show where each value came from')
    .action(async (o: { sources?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
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
