// An in-process hub over a real SQLite file, driven with Fastify inject(): for request and
// response shapes. Streams, restarts and crashes use real processes (see process.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ConfigKey } from '../../src/config/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { ADMIN_TOKEN_FILE, ensureAdminToken, Hub } from '../../src/hub/hub.js';
import { buildApp } from '../../src/server/app.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from './temp.js';

export interface TestApp {
  app: FastifyInstance;
  hub: Hub;
  store: SqliteStore;
  dir: string;
  adminToken: string;
  /** Registers an agent as admin and returns its token. */
  addAgent(id: string, role?: 'agent' | 'captain' | 'admin', specialty?: string): Promise<string>;
  /** inject() with a bearer token and JSON body. */
  call(method: string, url: string, opts?: { token?: string; body?: unknown; as?: string; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Record<string, unknown>; body: string }>;
}

export async function startTestApp(t: TestContext, flags: Partial<Record<ConfigKey, unknown>> = {}): Promise<TestApp> {
  const dir = tempDir();
  const { config } = loadConfig({ env: {}, cwd: dir, flags: { 'data.dir': dir, 'store.synchronous': 'normal', ...flags } });
  const store = new SqliteStore({ dir, synchronous: config['store.synchronous'] });
  const hub = new Hub({ store, config });
  await ensureAdminToken(hub, dir);
  const adminToken = readFileSync(join(dir, ADMIN_TOKEN_FILE), 'utf8').trim();
  const app = await buildApp({ hub, logger: false });
  t.after(async () => {
    // As serve.ts does: streams end first, or app.close() waits on open SSE responses forever.
    hub.closeStreams();
    await app.close();
    await hub.stop();
    await store.close();
  });
  const call: TestApp['call'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token ?? adminToken;
    if (token !== '') headers.authorization = `Bearer ${token}`;
    if (o.as !== undefined) headers['x-swarm-as'] = o.as;
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.inject({ method: method as 'GET', url, headers, payload });
    let json: unknown = undefined;
    try {
      json = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, headers: res.headers, body: res.body };
  };
  return {
    app,
    hub,
    store,
    dir,
    adminToken,
    call,
    async addAgent(id, role = 'agent', specialty = '') {
      const r = await call('POST', '/v1/agents', { body: { id, role, specialty } });
      if (r.status !== 201) throw new Error(`addAgent ${id}: ${r.status} ${r.body}`);
      return r.json.token as string;
    },
  };
}
