// `swarm mcp --print-config CLIENT`: the exact snippet that makes an MCP client start `swarm mcp`,
// with the absolute path of this swarm binary. Files that may be committed (.mcp.json, Cursor's
// mcp.json, Gemini's settings.json) name the token by environment variable, expanded by the client;
// commands and user-level files carry the token given with --token / SWARM_TOKEN, or a placeholder.
export const CONFIG_TARGETS = ['claude', 'codex', 'cursor', 'gemini'] as const;
export type ConfigTarget = (typeof CONFIG_TARGETS)[number];

export interface PrintConfigOptions {
  /** Absolute path of the swarm executable. */
  bin: string;
  hub: string;
  as?: string | undefined;
  /** A token the user gave explicitly (never the admin token found on disk). */
  token?: string | undefined;
  tools?: string | undefined;
}

const q = (s: string): string => (/^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function printConfig(target: ConfigTarget, o: PrintConfigOptions): string {
  const args = ['mcp', ...(o.as === undefined ? [] : ['--as', o.as]), ...(o.tools === undefined || o.tools === 'default' ? [] : ['--tools', o.tools])];
  const name = o.as === undefined ? 'swarm' : `swarm-${o.as.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
  const literal = o.token ?? `<token of ${o.as ?? 'the agent'}>`;
  const json = (token: string): string =>
    JSON.stringify({ mcpServers: { [name]: { command: o.bin, args, env: { SWARM_HUB: o.hub, SWARM_TOKEN: token } } } }, null, 2);
  switch (target) {
    case 'claude':
      return [
        '# Claude Code, for you only (stored in ~/.claude.json):',
        `claude mcp add --transport stdio ${q(name)} --env SWARM_HUB=${q(o.hub)} --env SWARM_TOKEN=${o.token === undefined ? '"$SWARM_TOKEN"' : q(o.token)} -- ${[o.bin, ...args].map(q).join(' ')}`,
        '',
        '# or for the project, in .mcp.json (Claude Code expands ${SWARM_TOKEN} from its environment):',
        json('${SWARM_TOKEN}'),
      ].join('\n');
    case 'cursor':
      return ['// .cursor/mcp.json (Cursor expands ${env:SWARM_TOKEN} from its environment)', json('${env:SWARM_TOKEN}')].join('\n');
    case 'gemini':
      return ['// .gemini/settings.json, or ~/.gemini/settings.json (Gemini CLI expands $SWARM_TOKEN from its environment)', json('$SWARM_TOKEN')].join('\n');
    case 'codex': {
      const s = (v: string): string => JSON.stringify(v);
      return [
        '# ~/.codex/config.toml',
        `[mcp_servers.${name}]`,
        `command = ${s(o.bin)}`,
        `args = [${args.map(s).join(', ')}]`,
        `env = { SWARM_HUB = ${s(o.hub)}, SWARM_TOKEN = ${s(literal)} }`,
      ].join('\n');
    }
  }
}
