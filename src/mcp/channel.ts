// Placeholder: the channel push (`swarm mcp --channel`) is built on another branch and replaces
// this file at merge. Until then the flag is refused with a usage error.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SwarmClient } from '../client/client.js';
import { HubError } from '../errors.js';

export function attachChannel(_server: McpServer, _client: SwarmClient, _opts: { allow: string[] | null }): Promise<() => Promise<void>> {
  return Promise.reject(new HubError('usage', 'the channel push is not built yet'));
}
