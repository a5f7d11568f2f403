// Server-Sent Events at /v1/stream: deliveries (event `delivery`, id = event id) and presence
// changes (event `presence`, no id). Resumable: a client reconnecting with Last-Event-ID gets the
// deliveries handed out after that id that it never saw, and none it had already received.
// Acknowledge over HTTP (POST /v1/ack). A client too slow to read gets `event: close`.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { StreamQuery } from '../../api/schemas.js';
import { HubError } from '../../errors.js';
import type { Hub } from '../../hub/hub.js';
import { eventJson } from './events.js';

export function registerSse(app: FastifyInstance, hub: Hub): void {
  const maxBuffered = hub.config['streams.maxBufferedBytes'];
  const heartbeatMs = hub.config['streams.heartbeatSeconds'] * 1000;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/stream',
    { schema: { summary: 'Server-Sent Events stream of the caller’s deliveries (docs/streams.md)', querystring: StreamQuery } },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      let resumeAfter = req.query.last_event_id;
      if (typeof header === 'string' && header !== '') {
        if (!/^\d+$/.test(header)) throw new HubError('validation_failed', `Last-Event-ID must be an event id (a whole number), not ${JSON.stringify(header.slice(0, 40))}`);
        resumeAfter = Number(header);
      }
      const sub = await hub.streams.subscribe(req.actor, { prefetch: req.query.prefetch, presence: req.query.presence, resumeAfter });
      reply.hijack();
      hub.metrics.streamsOpen.inc({ kind: 'sse' });
      void sub.closed.then((reason) => {
        hub.metrics.streamsOpen.dec({ kind: 'sse' });
        hub.metrics.streamsClosed.inc({ kind: 'sse', reason: reason?.code ?? 'client' });
      });
      const res = reply.raw;
      // `connection: close`: the socket ends with the stream. Kept alive, an ended stream's idle
      // connection held shutdown until the client's keep-alive timeout (4 s for fetch, more elsewhere).
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'close', 'x-accel-buffering': 'no' });
      res.write(`retry: 1000\nevent: ready\ndata: ${JSON.stringify({ agent: req.actor.self.id, session: sub.id, prefetch: sub.prefetch })}\n\n`);
      const ping = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
      ping.unref();
      res.on('close', () => {
        clearInterval(ping);
        sub.close();
      });
      // The server keeps half-closed sockets open to finish their answers (app.ts): a stream's
      // client that closes its side has left, and the stream ends now rather than at a failed write.
      req.raw.socket.once('end', () => res.destroy());
      for await (const ev of sub) {
        if (res.destroyed) break;
        if (res.writableLength > maxBuffered) {
          sub.close(new HubError('slow_consumer', `more than ${maxBuffered} bytes waiting for this client`));
          break;
        }
        res.write(ev.type === 'delivery' ? `id: ${ev.item.handout}\nevent: delivery\ndata: ${eventJson(ev)}\n\n` : `event: presence\ndata: ${eventJson(ev)}\n\n`);
      }
      clearInterval(ping);
      if (!res.destroyed) {
        const reason = sub.reason;
        if (reason !== null) res.write(`event: close\ndata: ${JSON.stringify({ code: reason.code, detail: reason.message })}\n\n`);
        res.end();
      }
    },
  );
}
