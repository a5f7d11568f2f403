// /v1/nack, /v1/queue, /v1/dlq: returning deliveries, queue depth and dead letters.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DeadLettersResponse, DlqQuery, DlqRetryBody, DlqRetryResponse, NackBody, NackResponse, QueueQuery, QueueStatsResponse } from '../../api/schemas.js';
import { wireInboxItem } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function queueRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/nack', {
      schema: { summary: 'Return deliveries to the inbox now or after a delay (ends their leases)', body: NackBody, response: { 200: NackResponse } },
      handler: async (req) => ({ nacked: await hub.inbox.nack(req.actor, req.body.ids, (req.body.delay_seconds ?? 0) * 1000) }),
    });

    app.get('/queue', {
      schema: { summary: 'Queue depth, leases in flight, redeliveries and dead letters per agent', querystring: QueueQuery, response: { 200: QueueStatsResponse } },
      handler: async (req) => ({
        agents: (await hub.queue.stats(req.actor, req.query.agent)).map((s) => ({
          agent: s.agent,
          depth: s.depth,
          in_flight: s.inFlight,
          delayed: s.delayed,
          redeliveries: s.redeliveries,
          dead: s.dead,
          acked: s.acked,
          expired: s.expired,
          streams: s.streams,
        })),
      }),
    });

    app.get('/dlq', {
      schema: { summary: 'Dead letters: deliveries that were never acknowledged, with the reason', querystring: DlqQuery, response: { 200: DeadLettersResponse } },
      handler: async (req) => ({
        dead: (await hub.queue.deadLetters(req.actor, req.query.agent, req.query.limit)).map((d) => ({
          ...wireInboxItem(d.item),
          attempts: d.attempts,
          reason: d.reason,
          dead_at: new Date(d.deadAt).toISOString(),
        })),
      }),
    });

    app.post('/dlq/retry', {
      schema: { summary: 'Put dead letters back in their inboxes (all, one agent’s, or some ids)', body: DlqRetryBody, response: { 200: DlqRetryResponse } },
      handler: async (req) => ({
        retried: (await hub.queue.retry(req.actor, req.body.agent, req.body.ids ?? null)).map(([agent, id]) => ({ agent, message_id: id })),
      }),
    });
  };
}
