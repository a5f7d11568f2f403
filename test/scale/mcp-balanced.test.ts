// POST /mcp is stateless: through a round-robin balancer (Debian's haproxy) over two `--role api`
// processes sharing PostgreSQL, the original swarm's scenario runs over MCP with each request free
// to land on either process, and both processes answer MCP requests (their own /metrics say so).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { originalSwarm } from '../mcp/scenario.js';
import { httpSession } from '../mcp/clients.js';
import { type Balancer, ensureHaproxy, startHaproxy } from '../support/haproxy.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { adminTokenOf, type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';

/** MCP requests this process answered, from its own /metrics. */
async function mcpRequests(hub: HubProcess): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^swarm_http_requests_total\{([^}]*)\} (\d+)/gm)) if (/route="\/mcp"/.test(m[1] ?? '') && /method="POST"/.test(m[1] ?? '')) n += Number(m[2]);
  return n;
}

describe('POST /mcp behind a round-robin balancer (two api processes, PostgreSQL)', () => {
  const hubs: HubProcess[] = [];
  let lb: Balancer | null = null;
  after(async () => {
    await lb?.stop();
    await Promise.all(hubs.map((h) => h.stop()));
  });

  it('runs the original swarm over MCP with requests spread over both processes', async (t) => {
    await ensureHaproxy();
    const dir = tempDir();
    const env = { SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: testSchema(t), SWARM_AGENT_RATE: '0', SWARM_ADDRESS_RATE: '0' };
    // One at a time: the first migrates the schema and mints the admin token.
    for (const [i, role] of (['worker', 'api', 'api'] as const).entries()) hubs.push(await spawnHub(join(dir, `p${i}`), { env, args: ['--role', role] }));
    const apis = hubs.slice(1);
    lb = await startHaproxy(dir, apis.map((h, i) => ({ name: `api${i}`, port: Number(new URL(h.url).port) })));
    const before = await Promise.all(apis.map(mcpRequests));
    await originalSwarm(lb.url, adminTokenOf(hubs), (token, tools) => httpSession(lb?.url ?? '', token, tools === undefined ? {} : { tools }));
    const served = (await Promise.all(apis.map(mcpRequests))).map((n, i) => n - (before[i] ?? 0));
    t.diagnostic(`POST /mcp answered per api process: ${served.join(' / ')}`);
    for (const [i, n] of served.entries()) assert.ok(n >= 10, `api process ${i} answered ${n} MCP requests: the balancer spread them`);
  });
});
