// Builds the Fastify instance without listening, so tests can drive it with inject(). Everything it
// needs is passed in: the hub (over its store) and the config.
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { HubError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../observability/logger.js';
import { AS_HEADER } from './context.js';
import { problemOf, sendProblem, toProblem } from './problem.js';
import { agentRoutes } from './routes/agents.js';
import { inboxRoutes } from './routes/inbox.js';
import { messageRoutes } from './routes/messages.js';
import { opsRoutes } from './routes/ops.js';
import { channelRoutes } from './routes/channels.js';
import { configRoutes } from './routes/config.js';
import { queueRoutes } from './routes/queue.js';
import { reportRoutes } from './routes/reports.js';
import { taskRoutes } from './routes/tasks.js';
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
}

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  return (await build(o)) as unknown as FastifyInstance;
}

async function build(o: AppOptions) {
  const { hub } = o;
  const app = Fastify({
    loggerInstance: (o.logger === false || o.logger === undefined ? undefined : o.logger) as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: !hub.config['log.requests'] }),
    bodyLimit: hub.config['limits.bodyBytes'],
    // Long-polls are held open up to limits.waitSeconds; nothing else should take that long.
    requestTimeout: (3600 + 30) * 1000, // the longest long-poll limits.waitSeconds allows, plus slack
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Unparseable URLs (bad percent-encoding) are refused before routing; answer them as problems too.
    frameworkErrors: (err, req, reply) => sendProblem(req, reply, toProblem(err)),
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API takes JSON only: Fastify's built-in text/plain parser would turn a text body into a
  // 400 schema error instead of 415 unsupported_media_type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, req, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) req.log.error({ err }, 'request failed');
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
  await app.register(opsRoutes(hub));
  const surface = o.surface ?? 'all';
  if (surface === 'ops') return app;
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', async (req, reply) => {
        const header = req.headers.authorization;
        const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
        const as = req.headers[AS_HEADER];
        if (Array.isArray(as)) throw new HubError('validation_failed', `send the ${AS_HEADER} header once`);
        try {
          if (header !== undefined && m === null) {
            hub.auth.failed(req.ip);
            throw new HubError('unauthorized', 'malformed Authorization header: expected `Bearer <token>`');
          }
          req.actor = await hub.auth.authenticate(m?.[1], as, req.ip);
        } catch (e) {
          const retry = e instanceof HubError && e.code === 'rate_limited' ? e.details?.retryAfterSeconds : undefined;
          if (typeof retry === 'number') reply.header('retry-after', String(retry));
          throw e;
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
      await v1.register(tokenRoutes(hub));
      registerWebSocket(v1 as unknown as FastifyInstance, hub);
      registerSse(v1 as unknown as FastifyInstance, hub);
    },
    { prefix: '/v1' },
  );
  return app;
}
