// `swarm mcp --print-config CLIENT`: the exact snippet that makes an MCP client start `swarm mcp`,
// with the absolute path of this swarm binary. Files (.mcp.json, Cursor's mcp.json, Gemini's
// settings.json, Codex's config.toml) never hold the token: they name it by environment variable,
// expanded by the client (Codex passes SWARM_TOKEN through with env_vars). Only the `claude mcp add`
// command carries the token given with --token / SWARM_TOKEN, since the user runs it and it is gone.
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
  const json = (token: string): string =>
    JSON.stringify({ mcpServers: { [name]: { command: o.bin, args, env: { SWARM_HUB: o.hub, SWARM_TOKEN: token } } } }, null, 2);
  switch (target) {
    case 'claude':
      return [
        '# Claude Code, for you only and in this project directory (local scope, stored in ~/.claude.json);',
        '# add -s user after `mcp add` to use it in every directory:',
        `claude mcp add --transport stdio ${q(name)} --env SWARM_HUB=${q(o.hub)} --env SWARM_TOKEN=${o.token === undefined ? '"$SWARM_TOKEN"' : q(o.token)} -- ${[o.bin, ...args].map(q).join(' ')}`,
        '',
        '# or for the project, in .mcp.json (Claude Code expands ${SWARM_TOKEN} from its environment,',
        '# and asks once to approve the server):',
        json('${SWARM_TOKEN}'),
      ].join('\n');
    case 'cursor':
      return ['// .cursor/mcp.json (Cursor expands ${env:SWARM_TOKEN} from its environment)', json('${env:SWARM_TOKEN}')].join('\n');
    case 'gemini':
      return [
        '// .gemini/settings.json, or ~/.gemini/settings.json (Gemini CLI expands $SWARM_TOKEN from its environment).',
        '// Gemini CLI starts MCP servers only in a trusted folder: trust it with /trust or in ~/.gemini/trustedFolders.json.',
        json('$SWARM_TOKEN'),
      ].join('\n');
    case 'codex': {
      const s = (v: string): string => JSON.stringify(v);
      return [
        '# ~/.codex/config.toml: SWARM_TOKEN must be set in the environment Codex starts in;',
        '# env_vars passes it through to swarm mcp, so the token is not written in this file.',
        `[mcp_servers.${name}]`,
        `command = ${s(o.bin)}`,
        `args = [${args.map(s).join(', ')}]`,
        `env = { SWARM_HUB = ${s(o.hub)} }`,
        'env_vars = ["SWARM_TOKEN"]',
      ].join('\n');
    }
  }
}
