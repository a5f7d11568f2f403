// An in-process hub over the store under test (a real SQLite file, or a schema of a real
// PostgreSQL: see store.ts), driven with Fastify inject(): for request and response shapes.
// Streams, restarts and crashes use real processes (see process.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ConfigKey } from '../../src/config/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { ADMIN_TOKEN_FILE, ensureAdminToken, Hub } from '../../src/hub/hub.js';
import { buildApp } from '../../src/server/app.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, testStore, type TestStore } from './store.js';

/** The hub, and where its store keeps its data (for storeCounts, storeRows). */
export interface TestApp extends TestStore {
  app: FastifyInstance;
  hub: Hub;
  store: Store;
  adminToken: string;
  /** Registers an agent as admin and returns its token. */
  addAgent(id: string, role?: 'agent' | 'captain' | 'admin', specialty?: string): Promise<string>;
  /** inject() with a bearer token and JSON body. */
  call(method: string, url: string, opts?: { token?: string; body?: unknown; as?: string; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Record<string, unknown>; body: string }>;
}

export async function startTestApp(t: TestContext, flags: Partial<Record<ConfigKey, unknown>> = {}): Promise<TestApp> {
  // Registered before testStore's schema drop, so that it runs first (t.after hooks run in the
  // order they were added): the hub stops and its store closes, then the schema goes.
  let close = async (): Promise<void> => {};
  t.after(() => close());
  const where = testStore(t);
  const { dir } = where;
  const { config } = loadConfig({ env: {}, cwd: dir, flags: { 'data.dir': dir, 'store.synchronous': 'normal', ...flags } });
  const store = await openTestStore(where, config['store.synchronous']);
  close = () => store.close();
  const hub = new Hub({ store, config });
  const app = await buildApp({ hub, logger: false });
  close = async () => {
    // As serve.ts does: streams end first, or app.close() waits on open SSE responses forever.
    hub.closeStreams();
    await app.close();
    await hub.stop();
    await store.close();
  };
  await ensureAdminToken(hub, dir);
  const adminToken = readFileSync(join(dir, ADMIN_TOKEN_FILE), 'utf8').trim();
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
    ...where,
    app,
    hub,
    store,
    adminToken,
    call,
    async addAgent(id, role = 'agent', specialty = '') {
      const r = await call('POST', '/v1/agents', { body: { id, role, specialty } });
      if (r.status !== 201) throw new Error(`addAgent ${id}: ${r.status} ${r.body}`);
      return r.json.token as string;
    },
  };
}
