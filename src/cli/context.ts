// What every CLI command needs: the resolved config (defaults < swarm.yaml < SWARM_* < flags) and a
// client for the hub, with the token found the same way for every command.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../config/data-files.js';
import type { ConfigKey } from '../config/keys.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { Swarm } from '../client/client.js';
import { HubError } from '../errors.js';

export interface GlobalOptions {
  hub?: string;
  as?: string;
  token?: string;
  ca?: string;
  json?: boolean;
  config?: string;
  quiet?: boolean;
  color?: boolean;
}

export const GLOBAL_FLAG_KEYS: Partial<Record<ConfigKey, string>> = { 'hub.url': '--hub', 'cli.as': '--as', 'cli.token': '--token', 'cli.ca': '--ca' };

export function cliConfig(g: GlobalOptions, extra: { flags?: Partial<Record<ConfigKey, unknown>>; flagNames?: Partial<Record<ConfigKey, string>> } = {}): LoadedConfig {
  return loadConfig({
    file: g.config,
    flags: { 'hub.url': g.hub, 'cli.as': g.as, 'cli.token': g.token, 'cli.ca': g.ca, ...extra.flags },
    flagNames: { ...GLOBAL_FLAG_KEYS, ...extra.flagNames },
  });
}

/** --token > SWARM_TOKEN > cli.token in swarm.yaml > <data.dir>/admin.token (a hub started here). */
export function resolveToken(loaded: LoadedConfig): string | undefined {
  const t = loaded.config['cli.token'];
  if (t !== '') return t;
  try {
    return readFileSync(join(resolve(loaded.config['data.dir']), ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Where and as whom the CLI talks to the hub. */
export function connection(g: GlobalOptions): { baseUrl: string; token: string | undefined; as: string | undefined; ca: Buffer | undefined } {
  const loaded = cliConfig(g);
  const caFile = loaded.config['cli.ca'];
  let ca: Buffer | undefined;
  if (caFile !== '') {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new HubError('config_invalid', `cannot read the CA file ${caFile} (cli.ca, from ${loaded.sources['cli.ca']}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return { baseUrl: loaded.config['hub.url'], token: resolveToken(loaded), as: loaded.config['cli.as'] || undefined, ca };
}

export function clientFor(g: GlobalOptions): Swarm {
  return new Swarm(connection(g));
}
