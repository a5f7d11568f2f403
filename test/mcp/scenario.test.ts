// The original swarm's scenario through MCP, once over stdio (one `swarm mcp` process per agent)
// and once over the hub's Streamable HTTP endpoint.
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from '../support/process.js';
import { storeKind, testStore } from '../support/store.js';
import { tempDir } from '../support/temp.js';
import { httpSession, stdioSession } from './clients.js';
import { originalSwarm } from './scenario.js';

describe(`${storeKind() === 'postgres' ? '[postgres] ' : ''}the original swarm through MCP`, () => {
  it('over stdio: swarm mcp processes driven by the SDK client', async (t) => {
    const dir = tempDir();
    const hub = await spawnHub(join(dir, '.swarm'), { cwd: dir, store: testStore(t, join(dir, '.swarm')) });
    t.after(() => hub.stop());
    await originalSwarm(hub.url, hub.adminToken, (token, tools) => stdioSession(hub.url, token, tools === undefined ? [] : ['--tools', tools]));
  });

  it('over Streamable HTTP: POST /mcp on the hub', async (t) => {
    const dir = tempDir();
    const hub = await spawnHub(join(dir, '.swarm'), { cwd: dir, store: testStore(t, join(dir, '.swarm')) });
    t.after(() => hub.stop());
    await originalSwarm(hub.url, hub.adminToken, (token, tools) => httpSession(hub.url, token, tools === undefined ? {} : { tools }));
  });
});
