// /v1/inbox, /v1/messages/:id/read, /v1/ack: the caller's own deliveries.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AckBody, AckResponse, IdParams, InboxQuery, InboxResponse, WireInboxItem } from '../../api/schemas.js';
import { wireInboxItem } from '../../api/wire.js';
import { HubError } from '../../errors.js';
import type { Hub } from '../../hub/hub.js';

export function inboxRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/inbox', {
      schema: {
        summary: 'The caller’s deliveries: unacknowledged by default, urgent first, then oldest',
        querystring: InboxQuery,
        response: { 200: InboxResponse },
      },
      handler: async (req, reply) => {
        const q = req.query;
        const maxWait = hub.settings.get('limits.waitSeconds');
        if (q.wait !== undefined && q.wait > maxWait) {
          throw new HubError('validation_failed', `wait ${q.wait}s exceeds the hub's limit of ${maxWait}s (setting limits.waitSeconds)`);
        }
        const aborted = new AbortController();
        reply.raw.once('close', () => aborted.abort());
        // A client that closes its side while waiting stops the wait (the server keeps half-closed
        // sockets open to finish their answers, app.ts): it gets what is there now.
        req.raw.socket.once('end', () => aborted.abort());
        const items = await hub.inbox.list(req.actor, { unread: q.unread, all: q.all, limit: q.limit, waitMs: (q.wait ?? 0) * 1000, signal: aborted.signal });
        return { agent: req.actor.self.id, items: items.map(wireInboxItem) };
      },
    });

    app.post('/messages/:id/read', {
      schema: { summary: 'Show one delivered message and mark it read', params: IdParams, response: { 200: WireInboxItem } },
      handler: async (req) => wireInboxItem(await hub.inbox.read(req.actor, req.params.id)),
    });

    app.post('/ack', {
      schema: { summary: 'Acknowledge deliveries (all or nothing; acking twice is harmless)', body: AckBody, response: { 200: AckResponse } },
      handler: async (req) => hub.inbox.ack(req.actor, req.body.ids),
    });
  };
}
