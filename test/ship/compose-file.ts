// compose.yaml as test/ship/compose.test.ts reads it: parsed with YAML merge keys (the file shares
// its hub settings through anchors), `${VAR}` filled the way Compose does, and small readers for
// what the services point at (durations, bind mounts, the haproxy and PgBouncer configs).
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.js';

export const COMPOSE_FILE = join(ROOT, 'compose.yaml');
export const ENV_EXAMPLE = join(ROOT, '.env.example');
export const HUB_IMAGE = 'ghcr.io/swarm-hub/swarm';

export interface Healthcheck {
  test: string[] | string;
}
export interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: (string | { source: string })[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: Healthcheck;
  restart?: string;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}
export interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}

/** The variables `.env.example` lists (NAME=value lines), with their committed values. */
export function envExample(text = readFileSync(ENV_EXAMPLE, 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** The names of the `${VAR}` (and `${VAR:?…}`, `${VAR:-…}`) the text interpolates; `$$` is a literal $. */
export function interpolated(text: string): Set<string> {
  return new Set([...text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
}

/** Compose's interpolation: `${VAR}`, `${VAR:?message}` (an error when unset or empty), `${VAR:-default}`, `$$`. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([?-])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (name === undefined) return '$';
    const v = vars[name] ?? '';
    if (v !== '') return v;
    if (op === '?') throw new Error(`compose.yaml: ${name} is required: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

export function loadCompose(text: string, vars: Record<string, string>): Compose {
  const doc = parse(interpolate(text, vars), { merge: true }) as Compose;
  for (const [name, s] of Object.entries(doc.services)) {
    // Compose's own spellings, normalized: `KEY=value` lists and `depends_on: [a, b]`.
    if (Array.isArray(s.environment)) s.environment = Object.fromEntries((s.environment as string[]).map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
    if (Array.isArray(s.depends_on)) s.depends_on = Object.fromEntries((s.depends_on as string[]).map((d) => [d, { condition: 'service_started' }]));
    if (typeof s.command === 'string') throw new Error(`compose.yaml: ${name}: write command as a list, not a string`);
  }
  return doc;
}

/** A Compose duration (`1m30s`, `20s`, `500ms`) in seconds. */
export function durationSeconds(d: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a Compose duration: ${d}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0);
}

/** The bind mounts of a service (host path resolved from the repository root) and its named volumes. */
export function mounts(s: Service): { host: string | null; volume: string | null; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    const [source, target] = v.split(':') as [string, string];
    const bind = source.startsWith('.') || source.startsWith('/');
    return { host: bind ? resolve(ROOT, source) : null, volume: bind ? null : source, target };
  });
}

/** The host file behind a path inside the container, through the service's bind mounts (deepest mount first). */
export function hostPath(s: Service, inContainer: string): string | null {
  const m = mounts(s)
    .filter((x) => x.host !== null && (inContainer === x.target || inContainer.startsWith(`${x.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return m ? join(m.host as string, posix.relative(m.target, inContainer)) : null;
}

/** The value of a `--flag value` or `--flag=value` in a command; true for a bare flag; undefined when absent. */
export function flag(command: string[], name: string): string | true | undefined {
  for (let i = 0; i < command.length; i++) {
    const a = command[i] as string;
    if (a === name) return command[i + 1] === undefined || command[i + 1]?.startsWith('--') ? true : (command[i + 1] as string);
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

/** The services that run the hub's image. */
export function hubServices(c: Compose): [string, Service][] {
  return Object.entries(c.services).filter(([, s]) => (s.image ?? '').split(':')[0] === HUB_IMAGE);
}

export interface Haproxy {
  /** Frontend name -> the port it binds and its default backend. */
  frontends: Map<string, { port: number; backend: string }>;
  /** Backend name -> its servers (host:port) and its HTTP check's path. */
  backends: Map<string, { servers: { host: string; port: number }[]; checkPath: string | null }>;
  /** From `default-server`: check interval (s) × failures to mark a server down. */
  markDownSeconds: number;
}

export function parseHaproxy(text: string): Haproxy {
  const frontends = new Map<string, { port: number; backend: string }>();
  const backends = new Map<string, { servers: { host: string; port: number }[]; checkPath: string | null }>();
  let markDownSeconds = Number.NaN;
  let section: { kind: string; name: string } = { kind: '', name: '' };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    if (!/^\s/.test(raw)) {
      section = { kind: words[0] as string, name: words[1] ?? '' };
      if (section.kind === 'frontend') frontends.set(section.name, { port: Number.NaN, backend: '' });
      if (section.kind === 'backend') backends.set(section.name, { servers: [], checkPath: null });
      continue;
    }
    const fe = frontends.get(section.name);
    const be = backends.get(section.name);
    if (section.kind === 'frontend' && fe && words[0] === 'bind') fe.port = Number((words[1] as string).split(':').pop());
    if (section.kind === 'frontend' && fe && words[0] === 'default_backend') fe.backend = words[1] as string;
    if (section.kind === 'backend' && be && words[0] === 'server') {
      const [host, port] = (words[2] as string).split(':');
      be.servers.push({ host: host as string, port: Number(port) });
    }
    if (section.kind === 'backend' && be && words[0] === 'http-check' && words[1] === 'send') be.checkPath = words[words.indexOf('uri') + 1] ?? null;
    if (words[0] === 'default-server') {
      const arg = (name: string): string => words[words.indexOf(name) + 1] ?? '';
      const inter = arg('inter');
      markDownSeconds = (inter.endsWith('ms') ? Number(inter.slice(0, -2)) / 1000 : Number(inter.replace(/s$/, ''))) * Number(arg('fall'));
    }
  }
  return { frontends, backends, markDownSeconds };
}

/** An INI file's sections as maps of key -> value (`;` and `#` start comments). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) out.set(sec[1] as string, (current = new Map()));
    else current.set(line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim());
  }
  return out;
}
