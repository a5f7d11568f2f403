// Operations endpoints, unauthenticated: /healthz (the process is alive), /readyz (the store answers,
// can write if its disk failed a write, its schema is current, and the process is not draining for
// shutdown), /openapi.json.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HubError } from '../../errors.js';
import type { Hub } from '../../hub/hub.js';

export function opsRoutes(hub: Hub, draining: () => boolean = () => false): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

    app.get('/readyz', { schema: { hide: true } }, async () => {
      if (draining()) throw new HubError('shutting_down', 'the hub is shutting down: out of rotation while requests in flight finish');
      return { status: 'ready', ...(await hub.readiness()) };
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      await hub.refreshQueueMetrics();
      return reply.type(hub.metrics.registry.contentType).send(await hub.metrics.registry.metrics());
    });
  };
}
