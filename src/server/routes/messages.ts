// /v1/messages, /v1/threads, /v1/history: send and find messages.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HistoryQuery, IdParams, MessageResponse, MessagesResponse, SendBody, SendHeaders, SendResponse } from '../../api/schemas.js';
import { wireMessage } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';
import { schemaSerializerCompiler } from '../schema-serializer.js';
import { toSendInput } from '../send-input.js';

export function messageRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/messages', {
      schema: {
        summary: 'Send a message to agents, a comma list, or all',
        headers: SendHeaders,
        body: SendBody,
        response: { 200: SendResponse, 201: SendResponse },
      },
      // The send path's answer, compiled from its schema (schema-serializer.ts).
      serializerCompiler: schemaSerializerCompiler,
      handler: async (req, reply) => {
        await hub.chargeSend(req.actor);
        const r = await hub.messages.send(req.actor, toSendInput(req.body, req.headers['idempotency-key']));
        return reply.code(r.duplicate ? 200 : 201).send({ message: wireMessage(r.message), recipients: r.recipients, duplicate: r.duplicate });
      },
    });

    app.get('/messages/:id', {
      schema: { summary: 'One message the caller sent or received', params: IdParams, response: { 200: MessageResponse } },
      handler: async (req) => {
        const r = await hub.messages.get(req.actor, req.params.id);
        return { message: wireMessage(r.message), recipients: r.recipients };
      },
    });

    app.get('/threads/:id', {
      schema: { summary: 'The conversation a message belongs to, oldest first', params: IdParams, response: { 200: MessagesResponse } },
      handler: async (req) => ({ messages: (await hub.messages.thread(req.actor, req.params.id)).map(wireMessage) }),
    });

    app.get('/history', {
      schema: { summary: 'Searchable history, newest first', querystring: HistoryQuery, response: { 200: MessagesResponse } },
      handler: async (req) => {
        const q = req.query;
        const messages = await hub.messages.history(req.actor, {
          agent: q.agent,
          since: q.since === undefined ? undefined : Date.parse(q.since),
          type: q.type,
          search: q.search,
          channel: q.channel,
          limit: q.limit,
        });
        return { messages: messages.map(wireMessage) };
      },
    });
  };
}
