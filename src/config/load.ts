// Layered configuration: built-in defaults < config file (swarm.yaml) < environment (SWARM_*) <
// command-line flags. Every value remembers where it came from, for `swarm config show --sources`.
// A bad value fails here, naming the key, the value, its source and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { HubError } from '../errors.js';
import { CONFIG_KEYS, type Config, type ConfigKey } from './keys.js';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../domain/template.js';

export type Source = 'default' | `file:${string}` | `env:${string}` | `flag:${string}`;

export interface LoadedConfig {
  config: Config;
  sources: Record<ConfigKey, Source>;
  file: string | null;
}

export interface LoadOptions {
  /** Explicit config file (--config); an error when it does not exist. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Values from command-line flags, by key; undefined entries are ignored. */
  flags?: Partial<Record<ConfigKey, unknown>>;
  /** Flag names for messages, by key (e.g. 'server.port' -> '--port'). */
  flagNames?: Partial<Record<ConfigKey, string>>;
}

export const DEFAULT_CONFIG_FILE = 'swarm.yaml';

function isKey(k: string): k is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, k);
}

/** Flattens `{server: {port: 1}}` into `{'server.port': 1}`. */
function flatten(obj: unknown, prefix: string, out: Record<string, unknown>, file: string): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new HubError('config_invalid', `${file}: ${prefix || 'the document'} must be a mapping of settings`);
  }
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isKey(key)) out[key] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(CONFIG_KEYS).some((c) => c.startsWith(`${key}.`))) flatten(v, key, out, file);
    else throw new HubError('config_invalid', `${file}: unknown setting '${key}' (known: ${Object.keys(CONFIG_KEYS).join(', ')})`, { details: { key } });
  }
}

// The YAML parser is loaded when there is a file to parse: most CLI calls have none, and it is a
// sixth of the CLI bundle's start-up (docs/benchmarks.md, "CLI start-up"). Through a require()
// that the bundler leaves alone, so it is read from node_modules then.
const load = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (load('yaml') as typeof Yaml).parse(text);
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HubError('config_invalid', `cannot read config file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    const what = ((e as Error).message.split('\n')[0] ?? '').replace(/\s*at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
    throw new HubError('config_invalid', `${path}: not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${what}`, { cause: e });
  }
  const out: Record<string, unknown> = {};
  if (doc === null || doc === undefined) return out;
  flatten(doc, '', out, path);
  return out;
}

function describeSource(s: Source): string {
  return s === 'default' ? 'the default' : s;
}

function validate(key: ConfigKey, value: unknown, source: Source): unknown {
  const spec = CONFIG_KEYS[key];
  const r = spec.schema.safeParse(value);
  if (!r.success) {
    const why = r.error.issues.map((i) => i.message).join('; ');
    const shown = (spec as { secret?: boolean }).secret === true ? '(hidden)' : JSON.stringify(value);
    throw new HubError('config_invalid', `${key} = ${shown} from ${describeSource(source)} is invalid: ${why}`, {
      details: { key, source },
    });
  }
  if (key.startsWith('templates.')) checkTemplate(key, r.data as string, source);
  return r.data;
}

function checkTemplate(key: string, text: string, source: Source): void {
  const unknown = unknownPlaceholders(text);
  if (unknown.length > 0) {
    throw new HubError('config_invalid', `${key} from ${describeSource(source)} uses unknown placeholder {${unknown[0] ?? ''}} (allowed: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`, {
      details: { key, source },
    });
  }
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const values: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, Source>;
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    values[key] = CONFIG_KEYS[key].default;
    sources[key] = 'default';
  }

  const explicit = opts.file ?? env.SWARM_CONFIG;
  let file: string | null = null;
  if (explicit !== undefined && explicit !== '') {
    file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new HubError('config_invalid', `config file ${file} does not exist`);
  } else if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) {
    file = resolve(cwd, DEFAULT_CONFIG_FILE);
  }
  if (file !== null) {
    for (const [key, value] of Object.entries(readFile(file))) {
      const source: Source = `file:${file}`;
      values[key] = validate(key as ConfigKey, value, source);
      sources[key as ConfigKey] = source;
    }
  }

  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const name = CONFIG_KEYS[key].env;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const source: Source = `env:${name}`;
    values[key] = validate(key, raw, source);
    sources[key] = source;
  }

  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    if (!isKey(key)) throw new HubError('internal', `flag mapped to unknown setting ${key}`);
    const source: Source = `flag:${opts.flagNames?.[key] ?? key}`;
    values[key] = validate(key, value, source);
    sources[key] = source;
  }

  if ((values['presence.idleSeconds'] as number) > (values['presence.offlineSeconds'] as number)) {
    throw new HubError(
      'config_invalid',
      `presence.idleSeconds (${String(values['presence.idleSeconds'])}, from ${describeSource(sources['presence.idleSeconds'])}) must not exceed presence.offlineSeconds (${String(values['presence.offlineSeconds'])})`,
    );
  }
  const drain = values['shutdown.drainSeconds'] as number;
  if (drain > 0 && drain >= (values['shutdown.graceSeconds'] as number)) {
    // The drain counts within the grace: longer, every SIGTERM would end without closing the store.
    throw new HubError(
      'config_invalid',
      `shutdown.drainSeconds (${drain}, from ${describeSource(sources['shutdown.drainSeconds'])}) must be less than shutdown.graceSeconds (${String(values['shutdown.graceSeconds'])}, from ${describeSource(sources['shutdown.graceSeconds'])}): the drain counts within the grace`,
    );
  }
  return { config: values as Config, sources, file };
}

/** The value as `config show` prints it: secrets masked. */
export function displayValue(key: ConfigKey, value: unknown): string {
  if ((CONFIG_KEYS[key] as { secret?: boolean }).secret === true && value !== '') return '********';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
