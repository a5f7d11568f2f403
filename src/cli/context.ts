// What every CLI command needs: the resolved config (defaults < swarm.yaml < SWARM_* < flags) and a
// client for the hub, with the token found the same way for every command.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigKey } from '../config/keys.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { SwarmClient } from '../client/client.js';
import { ADMIN_TOKEN_FILE } from '../hub/hub.js';

export interface GlobalOptions {
  hub?: string;
  as?: string;
  token?: string;
  json?: boolean;
  config?: string;
  quiet?: boolean;
  color?: boolean;
}

export const GLOBAL_FLAG_KEYS: Partial<Record<ConfigKey, string>> = { 'hub.url': '--hub', 'cli.as': '--as', 'cli.token': '--token' };

export function cliConfig(g: GlobalOptions, extra: { flags?: Partial<Record<ConfigKey, unknown>>; flagNames?: Partial<Record<ConfigKey, string>> } = {}): LoadedConfig {
  return loadConfig({
    file: g.config,
    flags: { 'hub.url': g.hub, 'cli.as': g.as, 'cli.token': g.token, ...extra.flags },
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
export function connection(g: GlobalOptions): { baseUrl: string; token: string | undefined; as: string | undefined } {
  const loaded = cliConfig(g);
  return { baseUrl: loaded.config['hub.url'], token: resolveToken(loaded), as: loaded.config['cli.as'] || undefined };
}

export function clientFor(g: GlobalOptions): SwarmClient {
  return new SwarmClient(connection(g));
}
