// A stdio MCP server with nothing but the channel push, for tests and bench/channel.ts while
// `swarm mcp --channel` is built elsewhere: SWARM_HUB and SWARM_TOKEN say where and as whom,
// SWARM_CHANNEL_ALLOW (comma-separated ids) is the allow-list. It writes "channel attached" to
// stderr once the stream is open, before the MCP handshake, so a test can tell that deliveries
// are being held even when no MCP client ever initializes the session.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { SwarmClient } from '../../src/client/client.js';
import { attachChannel } from '../../src/mcp/channel.js';

const hub = process.env.SWARM_HUB;
const token = process.env.SWARM_TOKEN;
if (hub === undefined || token === undefined) {
  process.stderr.write('mcp-channel-server: set SWARM_HUB and SWARM_TOKEN\n');
  process.exit(2);
}
const allowRaw = process.env.SWARM_CHANNEL_ALLOW;
const allow = allowRaw === undefined ? null : allowRaw.split(',').filter((s) => s !== '');

const server = new McpServer({ name: 'swarm-channel-test', version: '0.0.0' });
const stop = await attachChannel(server, new SwarmClient({ baseUrl: hub, token }), { allow });
process.stderr.write('channel attached\n');
const transport = new StdioServerTransport();
await server.connect(transport);
process.stdin.on('end', () => void stop().then(() => process.exit(0)));
