// POST /mcp: the MCP server over Streamable HTTP, stateless. Each request builds the MCP server for
// its bearer token and answers in JSON, so any api process behind a round-robin balancer can serve
// any request and nothing is kept between requests. The tools run over an in-process client whose
// requests go through this app's own /v1 routes (Fastify inject): the same auth, --as rules,
// limits, audit and validation as every other client, and no path to the store of its own.
//
// Browsers: a request carrying an Origin other than this hub's own is refused (a page elsewhere
// must not drive an agent's tools); one without Origin (every MCP client) is served. On a hub bound
// to loopback, Host must name loopback too (DNS rebinding).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, InjectOptions } from 'fastify';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { type ClientFetch, SwarmClient } from '../client/client.js';
import { HubError } from '../errors.js';
import { createMcpServer } from '../mcp/server.js';
import { TOOL_SETS, type ToolSet } from '../mcp/tool-sets.js';
import { AS_HEADER } from './context.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopbackBind(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

/** Refuses cross-origin browsers and, on a loopback hub, foreign Host names. */
export function checkOrigin(req: FastifyRequest, bindHost: string): void {
  const host = req.headers.host ?? '';
  if (isLoopbackBind(bindHost)) {
    const name = host.replace(/:\d+$/, '');
    if (!LOOPBACK_NAMES.has(name) && !name.startsWith('127.')) throw new HubError('forbidden', `Host ${host || '(none)'} is not this hub: it listens on ${bindHost} only`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let originHost = '';
  try {
    originHost = new URL(origin).host;
  } catch {
    // An unparseable Origin is a foreign one.
  }
  if (originHost === '' || originHost !== host) throw new HubError('forbidden', `cross-origin requests to /mcp are refused (Origin ${origin})`);
}

/** A fetch that answers through `inject`: the request never leaves the process. */
type Inject = (o: InjectOptions) => Promise<{ statusCode: number; statusMessage: string; body: string }>;

function injectFetch(inject: Inject, remoteAddress: string): ClientFetch {
  return async (url, init) => {
    const u = new URL(url);
    const res = await inject({ method: init.method as 'GET', url: u.pathname + u.search, headers: init.headers, remoteAddress, ...(init.body === undefined ? {} : { payload: init.body }) });
    return { ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, statusText: res.statusMessage, text: async () => res.body };
  };
}

export function mcpHttpRoutes(o: { root: () => FastifyInstance; version: string; bindHost: string }): FastifyPluginAsync {
  return async (app) => {
    const refuse = async (): Promise<never> => {
      throw new HubError('method_not_allowed', '/mcp is stateless: POST JSON-RPC requests; there is no session stream (GET) to open or end (DELETE)');
    };
    app.get('/mcp', { schema: { hide: true } }, refuse);
    app.delete('/mcp', { schema: { hide: true } }, refuse);

    app.post('/mcp', { schema: { hide: true } }, async (req, reply) => {
      checkOrigin(req, o.bindHost);
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const as = req.headers[AS_HEADER];
      if (Array.isArray(as)) throw new HubError('validation_failed', `send the ${AS_HEADER} header once`);
      const q = req.query as { tools?: string };
      const tools = (q.tools ?? 'default') as ToolSet;
      if (!TOOL_SETS.includes(tools)) throw new HubError('validation_failed', `tools: one of ${TOOL_SETS.join(', ')}`);
      const root = o.root();
      const client = new SwarmClient({ baseUrl: 'http://in-process', token: m?.[1], as, fetch: injectFetch((i) => root.inject(i) as unknown as ReturnType<Inject>, req.ip) });
      // The token and --as are checked before any MCP: a revoked token is a 401, not a session.
      // (A request without a valid token is charged to its address there, by the /v1 hook.)
      try {
        await client.whoami();
      } catch (e) {
        if (e instanceof HubError && e.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
        throw e;
      }

      const server = createMcpServer({ client, tools, version: o.version });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      try {
        await server.connect(transport);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const res = await transport.handleRequest(new Request(`http://${req.headers.host ?? 'localhost'}/mcp`, { method: 'POST', headers, body: JSON.stringify(req.body) }), { parsedBody: req.body });
        reply.code(res.status);
        res.headers.forEach((v, k) => void reply.header(k, v));
        return reply.send(await res.text());
      } finally {
        await server.close().catch(() => undefined);
      }
    });
  };
}
