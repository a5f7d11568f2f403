// `swarm mcp --print-config CLIENT`: the exact snippet for each MCP client, naming this checkout's
// swarm binary by absolute path and the hub URL; tokens only as the user gave them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SWARM_BIN } from '../support/paths.js';
import { runCli } from '../support/process.js';

const HUB = 'http://127.0.0.1:18080';
const print = (args: string[], env: Record<string, string> = {}) => runCli(['mcp', '--print-config', ...args], { env: { SWARM_HUB: HUB, ...env } });

function jsonPart(out: string): any {
  return JSON.parse(out.slice(out.indexOf('\n{') + 1, out.lastIndexOf('}') + 1));
}

describe('swarm mcp --print-config', () => {
  it('prints a snippet per client with the absolute binary path and the hub', async () => {
    const [claude, codex, cursor, gemini] = await Promise.all(['claude', 'codex', 'cursor', 'gemini'].map((c) => print([c, '--as', 'Agent-1'])));
    for (const r of [claude, codex, cursor, gemini]) {
      assert.equal(r?.code, 0, r?.stderr);
      assert.equal(r?.stderr, '');
      assert.ok(r?.stdout.includes(SWARM_BIN), `names ${SWARM_BIN}`);
    }
    assert.match(claude?.stdout ?? '', new RegExp(`^claude mcp add --transport stdio swarm-agent-1 --env SWARM_HUB=${HUB} --env SWARM_TOKEN="\\$SWARM_TOKEN" -- ${SWARM_BIN} mcp --as Agent-1$`, 'm'));
    const dotMcp = jsonPart(claude?.stdout ?? '');
    assert.deepEqual(dotMcp.mcpServers['swarm-agent-1'], { command: SWARM_BIN, args: ['mcp', '--as', 'Agent-1'], env: { SWARM_HUB: HUB, SWARM_TOKEN: '${SWARM_TOKEN}' } });
    assert.equal(jsonPart(cursor?.stdout ?? '').mcpServers['swarm-agent-1'].env.SWARM_TOKEN, '${env:SWARM_TOKEN}');
    assert.equal(jsonPart(gemini?.stdout ?? '').mcpServers['swarm-agent-1'].env.SWARM_TOKEN, '$SWARM_TOKEN');
    assert.match(codex?.stdout ?? '', /^\[mcp_servers\.swarm-agent-1\]$/m);
    assert.match(codex?.stdout ?? '', new RegExp(`^command = "${SWARM_BIN}"$`, 'm'));
    assert.match(codex?.stdout ?? '', /^args = \["mcp", "--as", "Agent-1"\]$/m);
    assert.match(codex?.stdout ?? '', new RegExp(`^env = \\{ SWARM_HUB = "${HUB}" \\}$`, 'm'));
    assert.match(codex?.stdout ?? '', /^env_vars = \["SWARM_TOKEN"\]$/m);
    assert.match(claude?.stdout ?? '', /this project directory.*\n.*-s user/);
    assert.match(gemini?.stdout ?? '', /trusted folder/);
  });

  it('leaves a token given with SWARM_TOKEN out of Codex’s file (passed through by env_vars), and carries the tool set', async () => {
    const r = await print(['codex', '--tools', 'all'], { SWARM_TOKEN: 'swarm_abc' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^args = \["mcp", "--tools", "all"\]$/m);
    assert.match(r.stdout, /^env_vars = \["SWARM_TOKEN"\]$/m);
    assert.ok(!r.stdout.includes('swarm_abc'), r.stdout);
    assert.doesNotMatch(r.stdout, /SWARM_TOKEN = /);
    assert.match(r.stdout, /SWARM_TOKEN must be set in the environment Codex starts in/);
    // Pasted whole into config.toml: every line is a comment, a table header or a key = value.
    for (const line of r.stdout.trim().split('\n')) assert.match(line, /^(# |\[mcp_servers\.[a-z0-9-]+\]$|[a-z_]+ = )/, line);
  });

  it('carries a token given with SWARM_TOKEN only in the `claude mcp add` command, not in .mcp.json', async () => {
    const r = await print(['claude'], { SWARM_TOKEN: 'swarm_abc' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^claude mcp add .* --env SWARM_TOKEN=swarm_abc -- /m);
    assert.equal(jsonPart(r.stdout).mcpServers.swarm.env.SWARM_TOKEN, '${SWARM_TOKEN}');
  });

  it('refuses an unknown client with a usage error', async () => {
    const r = await print(['vim']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^swarm: usage: .*claude, codex, cursor, gemini/);
  });
});

describe('swarm mcp: flags that do not go together', () => {
  it('refuses them with exit 2 and one usage line, before reaching any hub', async () => {
    const cases: [string[], RegExp][] = [
      [['mcp', '--tools', 'bogus'], /--tools/],
      [['mcp', '--allow', 'Agent-2'], /--allow goes with --channel/],
      [['mcp', '--channel', '--allow', ','], /--allow takes agent ids/],
      [['mcp', '--channel', '--allow', 'Agent-2,not an id'], /--allow takes agent ids/],
      [['mcp', '--print-config', 'claude', '--channel'], /--print-config prints the plain server/],
    ];
    // SWARM_HUB names a port nothing listens on: a refusal must come before any request.
    const results = await Promise.all(cases.map(([args]) => runCli(args, { env: { SWARM_HUB: 'http://127.0.0.1:9', SWARM_TOKEN: 'swarm_x' } })));
    results.forEach((r, i) => {
      const [args, message] = cases[i] as [string[], RegExp];
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^swarm: usage: /, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      assert.equal(r.stdout, '');
    });
  });
});
