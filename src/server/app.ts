// Builds the Fastify instance without listening, so tests can drive it with inject(). Everything it
// needs is passed in: the hub (over its store) and the config.
import type { Duplex } from 'node:stream';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../observability/logger.js';
import { AS_HEADER } from './context.js';
import { lazyChild } from './lazy-log.js';
import { mcpHttpRoutes } from './mcp-http.js';
import { problemOf, sendProblem, toProblem } from './problem.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { inboxRoutes } from './routes/inbox.js';
import { messageRoutes } from './routes/messages.js';
import { opsRoutes } from './routes/ops.js';
import { channelRoutes } from './routes/channels.js';
import { configRoutes } from './routes/config.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { keyRoutes } from './routes/keys.js';
import { queueRoutes } from './routes/queue.js';
import { reportRoutes } from './routes/reports.js';
import { taskRoutes } from './routes/tasks.js';
import { retentionRoutes } from './routes/retention.js';
import { backupRoutes } from './routes/backups.js';
import { targetRoutes } from './routes/targets.js';
import { tokenRoutes } from './routes/tokens.js';
import { registerSse } from './stream/sse.js';
import { registerWebSocket, WS_CLOSE } from './stream/ws.js';

export interface AppOptions {
  hub: Hub;
  logger?: Logger | false;
  version?: string;
  /**
   * What the process serves: `all` (the API, streams and config), `config` (only the shared
   * settings service) or `ops` (only /healthz, /readyz, /metrics: the worker).
   */
  surface?: 'all' | 'config' | 'ops';
  /** PEM certificate and key: serve HTTPS (and WSS). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** True while the process drains before shutdown: /readyz answers 503, everything else is served. */
  draining?: () => boolean;
}

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  return (await build(o)) as unknown as FastifyInstance;
}

async function build(o: AppOptions) {
  const { hub } = o;
  const app = Fastify({
    ...(o.tls === undefined ? {} : { https: o.tls }),
    loggerInstance: (o.logger === false || o.logger === undefined ? undefined : o.logger) as FastifyBaseLogger | undefined,
    // ECS: each request's log lines carry its id as http.request.id (observability/logger.ts).
    logController: new LogController({ disableRequestLogging: !hub.config['log.requests'], requestIdLogLabel: 'http.request.id' }),
    bodyLimit: hub.config['limits.bodyBytes'],
    // Timeouts. requestTimeout bounds receiving a request (headers and body: a slow-loris client
    // gets 408), not answering it, so long-polls and streams are not cut. No connectionTimeout
    // (socket inactivity): a long-poll's socket is rightly silent for up to limits.waitSeconds and
    // streams send a heartbeat of their own; an idle keep-alive socket ends after keepAliveTimeout.
    requestTimeout: hub.config['limits.requestSeconds'] * 1000,
    keepAliveTimeout: hub.config['limits.keepAliveSeconds'] * 1000,
    // Node checks those two every connectionsCheckingInterval (30 s by default): every 5 s here.
    http: { headersTimeout: Math.min(hub.config['limits.requestSeconds'], 10) * 1000, connectionsCheckingInterval: 5000 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Unparseable URLs (bad percent-encoding) are refused before routing; answer them as problems too.
    frameworkErrors: (err, req, reply) => sendProblem(req, reply, toProblem(err)),
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  // Node hands a CONNECT request (a proxy tunnel) to 'connect' listeners and, with none, drops the
  // socket without a word (the fuzz test saw no status line). The hub is no proxy: 405, as for any
  // method it does not serve.
  app.server.on('connect', (_req: unknown, socket: Duplex) => {
    const body = JSON.stringify(problemOf('method_not_allowed', 'CONNECT is not served: the hub is not a proxy'));
    socket.on('error', () => undefined);
    // Destroyed once written: ended alone, a socket handed over here stays half-open, unread, and
    // holds server.close() (shutdown) for ever.
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
  });
  // A client may half-close its side once its request is written (`Connection: close` clients,
  // `nc -N`). Node's default then ends the socket at once, and an answer still being worked on
  // (an await on PostgreSQL) is lost: 10 of 300 such requests got no status line. Half-open, Node
  // ends the socket after the last answer instead. (An undocumented but long-standing property.)
  (app.server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API takes JSON only: Fastify's built-in text/plain parser would turn a text body into a
  // 400 schema error instead of 415 unsupported_media_type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, req, reply) => {
    const problem = toProblem(err);
    // A bug is logged with its stack. A refusal for now (the database away, shutting down) is
    // expected and is a warning without one: during a database restart every request wrote a
    // ~2.5 KB stack trace at error level.
    if (problem.code === 'internal') req.log.error({ err }, 'request failed');
    else if (problem.status >= 500) req.log.warn({ code: problem.code, detail: problem.detail }, 'request refused');
    return sendProblem(req, reply, problem);
  });
  // close() ends only the connections idle at that instant; one busy then stays open as keep-alive
  // after its answer and holds SIGTERM shutdown for keepAliveTimeout (72 s). Answers sent while
  // closing end their connection instead.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // Request metrics: streams and long-polls are counted but not timed (their duration is not latency).
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route };
    hub.metrics.httpRequests.inc({ ...labels, status: String(reply.statusCode) });
    if (route !== '/v1/ws' && route !== '/v1/stream' && !(route === '/v1/inbox' && req.url.includes('wait='))) {
      hub.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    }
    done();
  });
  // Requests that carry no valid token are limited per client address (limits.addressRate): the
  // ones outside /v1 here, failed authentications in the /v1 hook below. Authenticated requests
  // are not: on a laptop every agent shares 127.0.0.1, so they are limited per agent instead.
  const chargeAddress = (req: FastifyRequest): void =>
    hub.addressRequests.charge(req.ip, hub.now(), `too many requests without a valid token from ${req.ip} (limits.addressRate ${hub.settings.get('limits.addressRate')}/s, burst ${hub.settings.get('limits.addressBurst')})`);
  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url ?? '';
    // /mcp authenticates through /v1 (in-process), which charges failed authentications there.
    if (!route.startsWith('/v1/') && route !== '/mcp') chargeAddress(req);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(req, reply, problemOf('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Swarm hub API', version: o.version ?? '0.0.0', description: 'Messaging and coordination hub for swarms of AI agents.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  await app.register(fastifyWebsocket, {
    options: { maxPayload: hub.config['limits.bodyBytes'] },
    // The plugin's default closes open sockets without a code (1005), racing the sessions' own
    // 1001: a socket still open when the server closes is going away because the hub shuts down.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.close(WS_CLOSE.goingAway, 'shutting_down');
      // Not waiting for the closing handshakes: a peer that reads nothing would hold shutdown.
      this.websocketServer.close();
      done();
    },
  });
  await app.register(opsRoutes(hub, o.draining));
  const surface = o.surface ?? 'all';
  if (surface === 'ops') return app;
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', async (req, reply) => {
        const header = req.headers.authorization;
        const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
        // A request without a valid token is charged to its address before its failure is tallied
        // for the audit trail: one refused 429 costs nothing more (Auth.refused).
        const from = { address: req.ip, requestId: String(req.id), charge: () => chargeAddress(req) };
        try {
          if (header !== undefined && m === null) throw hub.auth.malformed(from);
          const as = req.headers[AS_HEADER];
          if (Array.isArray(as)) throw new HubError('validation_failed', `send the ${AS_HEADER} header once`);
          req.actor = await hub.auth.authenticate(m?.[1], as, from);
          // Every later line of this request names the agent (ECS user.id; the one it acts for: user.target.id).
          const self = req.actor.self.id;
          req.log = lazyChild(req.log, self === req.actor.principal.id ? { 'user.id': self } : { 'user.id': req.actor.principal.id, 'user.target.id': self });
          reply.log = req.log;
        } catch (e) {
          const retry = e instanceof HubError && e.code === 'rate_limited' ? e.details?.retryAfterSeconds : undefined;
          if (typeof retry === 'number') reply.header('retry-after', String(retry));
          throw e;
        }
        if (req.actor.self.id !== req.actor.principal.id) {
          // Every call made for another agent: who, for whom, what. Written before the call runs;
          // a call that cannot be recorded is not made.
          await hub.audit.write({
            actor: req.actor.principal.id,
            action: 'act.as',
            target: req.actor.self.id,
            requestId: String(req.id),
            detail: { method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0] },
          });
        }
        const now = hub.now();
        hub.presence.seen(req.actor.principal.id, now);
        if (req.actor.self.id !== req.actor.principal.id) hub.presence.seen(req.actor.self.id, now);
      });
      await v1.register(configRoutes(hub));
      if (surface === 'config') return;
      await v1.register(messageRoutes(hub));
      await v1.register(inboxRoutes(hub));
      await v1.register(agentRoutes(hub));
      await v1.register(queueRoutes(hub));
      await v1.register(channelRoutes(hub));
      await v1.register(taskRoutes(hub));
      await v1.register(reportRoutes(hub));
      await v1.register(keyRoutes(hub));
      await v1.register(auditRoutes(hub));
      await v1.register(tokenRoutes(hub));
      await v1.register(targetRoutes(hub));
      await v1.register(retentionRoutes(hub));
      await v1.register(backupRoutes(hub, o.version ?? '0.0.0'));
      registerWebSocket(v1 as unknown as FastifyInstance, hub);
      registerSse(v1 as unknown as FastifyInstance, hub);
    },
    { prefix: '/v1' },
  );
  if (surface === 'all') await app.register(dashboardRoutes());
  if (surface === 'all') await app.register(mcpHttpRoutes({ root: () => app as unknown as FastifyInstance, version: o.version ?? '0.0.0', bindHost: hub.config['server.host'] }));
  return app;
}
