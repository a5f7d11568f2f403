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
      try {
        await hub.store.ping();
      } catch (e) {
        // A disk that fails writes is said as such (the embedded store, until a write succeeds).
        if (e instanceof HubError && e.code === 'storage_io_error') throw e;
        throw new HubError('store_unavailable', `store not reachable: ${(e as Error).message}`, { cause: e });
      }
      const schema = await hub.store.schema();
      if (schema.current !== schema.latest) throw new HubError('store_unavailable', `store schema at ${schema.current}, expected ${schema.latest}`);
      return { status: 'ready', store: hub.store.kind, schema: schema.current };
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      await hub.refreshQueueMetrics();
      return reply.type(hub.metrics.registry.contentType).send(await hub.metrics.registry.metrics());
    });
  };
}
