// WebSocket sessions at /v1/ws: receive deliveries, send, ack and nack over one socket. The frame
// protocol is documented in docs/streams.md. Client frames are pipelined: each frame starts once
// the one before it has taken its place in the store's commit queue (CommitOrder), so one
// socket's sends and acks share commits yet commit in the order they came, and the answers leave
// in frame order. A bad frame gets an error frame and changes nothing; the socket stays open.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { ClientFrame, CLIENT_FRAME_TYPES, StreamQuery } from '../../api/schemas.js';
import { wireMessage } from '../../api/wire.js';
import { HubError } from '../../errors.js';
import type { Hub } from '../../hub/hub.js';
import type { Subscription } from '../../hub/subscription.js';
import { toProblem } from '../problem.js';
import { toSendInput } from '../send-input.js';
import { eventJson } from './events.js';

/** Close codes, documented in docs/streams.md. */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  unauthorized: 4001,
  forbidden: 4003,
  slowConsumer: 4008,
  /** The client sent more than streams.maxPendingFrames frames that were not answered yet (1013: try again later). */
  overloaded: 4013,
  tooManyStreams: 4029,
} as const;

function closeCodeFor(reason: HubError | null): number {
  if (reason === null) return WS_CLOSE.normal;
  if (reason.code === 'shutting_down') return WS_CLOSE.goingAway;
  if (reason.code === 'slow_consumer') return WS_CLOSE.slowConsumer;
  if (reason.code === 'unauthorized') return WS_CLOSE.unauthorized;
  if (reason.code === 'forbidden') return WS_CLOSE.forbidden;
  if (reason.code === 'too_many_streams') return WS_CLOSE.tooManyStreams;
  if (reason.code === 'overloaded') return WS_CLOSE.overloaded;
  return WS_CLOSE.internal;
}

function errorFrame(id: string | undefined, e: unknown): string {
  const p = toProblem(e);
  return JSON.stringify({ type: 'error', ...(id === undefined ? {} : { id }), code: p.code, detail: p.detail, ...(p.retry_after === undefined ? {} : { retry_after: p.retry_after }) });
}

/** Why a frame is not one we take: named precisely. */
function frameProblem(raw: unknown): HubError {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return new HubError('bad_frame', 'a frame must be a JSON object with a "type"');
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    return new HubError('bad_frame', `unknown frame type ${JSON.stringify(type)} (expected one of ${CLIENT_FRAME_TYPES.join(', ')})`);
  }
  const r = ClientFrame.safeParse(raw);
  const issues = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`);
  return new HubError('bad_frame', `invalid ${type} frame: ${issues.join('; ')}`);
}

export function registerWebSocket(app: FastifyInstance, hub: Hub): void {
  const maxBuffered = hub.config['streams.maxBufferedBytes'];
  const heartbeatMs = hub.config['streams.heartbeatSeconds'] * 1000;
  const maxPending = hub.config['streams.maxPendingFrames'];
  app.withTypeProvider<ZodTypeProvider>().get(
    '/ws',
    {
      websocket: true,
      schema: { summary: 'WebSocket stream: deliveries in; send, ack, nack out (docs/streams.md)', querystring: StreamQuery },
      // Refused before the upgrade, as a problem document (429 too_many_streams).
      preHandler: async (req) => hub.streams.checkCapacity(req.actor),
    },
    (socket: WebSocket, req: FastifyRequest) => {
      const q = req.query as { presence?: boolean; prefetch?: number; last_event_id?: number };
      const actor = req.actor;
      let sub: Subscription | null = null;
      let closedByPeer = false;
      // `turn` settles when the latest frame has its place in the commit order (the next frame
      // starts then); `answered` when the latest frame's answer has been sent.
      let turn: Promise<void> = Promise.resolve();
      let answered: Promise<void> = Promise.resolve();
      // Frames received and not answered yet: the promises above hold each one (and its bytes)
      // until its answer. Bounded, so that a client writing faster than its frames are handled
      // cannot grow the hub's memory without end (issue 12).
      let pending = 0;
      let flooded = false;
      // Frames sent in one turn of the event loop leave in one write: the TCP socket is corked at
      // the first frame of a turn and uncorked after it (one syscall instead of one per frame). An
      // answer to an ack and the deliveries its freed credit lets through share that write.
      const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      let corked = false;
      const send = (text: string): void => {
        if (!corked && tcp !== undefined) {
          corked = true;
          tcp.cork();
          setImmediate(() => {
            corked = false;
            tcp.uncork();
          });
        }
        socket.send(text);
      };

      /**
       * One frame, answered by what it returns (sent by the caller, in frame order). `queued` is
       * called once the frame's place in the commit order is fixed, or when it ends; `earlier`
       * settles once every earlier frame has been answered.
       */
      const handle = async (data: Buffer, isBinary: boolean, queued: () => void, earlier: Promise<void>): Promise<string | null> => {
        if (flooded) return null;
        let id: string | undefined;
        try {
          if (isBinary) throw new HubError('bad_frame', 'binary frames are not accepted: send JSON text');
          let raw: unknown;
          try {
            raw = JSON.parse(data.toString('utf8'));
          } catch {
            throw new HubError('bad_frame', 'malformed JSON');
          }
          const maybeId = (raw as { id?: unknown } | null)?.id;
          if (typeof maybeId === 'string') id = maybeId;
          const parsed = ClientFrame.safeParse(raw);
          if (!parsed.success) throw frameProblem(raw);
          const f = parsed.data;
          if (f.type === 'ping') return JSON.stringify({ type: 'pong', id: f.id });
          if (f.type === 'send') {
            await hub.chargeSend(actor);
            const r = await hub.messages.send(actor, toSendInput(f.message), {}, { queued });
            return JSON.stringify({ type: 'sent', id: f.id, message: wireMessage(r.message), recipients: r.recipients, duplicate: r.duplicate });
          }
          if (f.type === 'ack') {
            const r = await hub.inbox.ack(actor, f.ids, true, { queued });
            return JSON.stringify({ type: 'acked', id: f.id, acked: r.acked });
          }
          // A nack changes leases outside the commit queue: it waits for the frames before it
          // (an ack of the same delivery, say) to be done, as a client reading in order expects.
          await earlier;
          const nacked = await hub.inbox.nack(actor, f.ids, (f.delay_seconds ?? 0) * 1000);
          return JSON.stringify({ type: 'nacked', id: f.id, nacked });
        } catch (e) {
          if (!(e instanceof HubError)) req.log.error({ err: e }, 'websocket frame failed');
          return errorFrame(id, e);
        } finally {
          queued();
        }
      };
      // Attached before any await: frames that arrive while the subscription opens are kept.
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (flooded) return;
        if (pending >= maxPending) {
          // The frames still waiting are dropped unanswered: the client learns from the error frame
          // and the close code that it must wait for answers (or batch ids) before sending more.
          flooded = true;
          const e = new HubError('overloaded', `more than ${maxPending} frames sent and not answered yet (setting streams.maxPendingFrames): wait for answers, or batch ids into one frame`);
          send(errorFrame(undefined, e));
          sub?.close(e);
          socket.close(WS_CLOSE.overloaded, 'overloaded');
          setTimeout(() => socket.terminate(), 2000).unref();
          return;
        }
        pending += 1;
        const previous = turn;
        let queued!: () => void;
        turn = new Promise<void>((r) => (queued = r));
        const earlier = answered;
        const answer = previous.then(() => handle(data, isBinary, queued, earlier));
        answered = earlier
          .then(() => answer)
          .then((text) => {
            if (text !== null && !flooded && socket.readyState === socket.OPEN) send(text);
          })
          .finally(() => {
            pending -= 1;
          });
      });
      socket.on('close', () => {
        closedByPeer = true;
        sub?.close();
      });
      const ping = setInterval(() => socket.ping(), heartbeatMs);
      ping.unref();
      socket.once('close', () => clearInterval(ping));

      void (async () => {
        try {
          sub = await hub.streams.subscribe(actor, { prefetch: q.prefetch, presence: q.presence, resumeAfter: q.last_event_id });
        } catch (e) {
          socket.send(errorFrame(undefined, e));
          socket.close(closeCodeFor(e instanceof HubError ? e : null), toProblem(e).code);
          return;
        }
        if (closedByPeer) return sub.close();
        hub.metrics.streamsOpen.inc({ kind: 'ws' });
        void sub.closed.then((reason) => {
          hub.metrics.streamsOpen.dec({ kind: 'ws' });
          hub.metrics.streamsClosed.inc({ kind: 'ws', reason: reason?.code ?? (closedByPeer ? 'client' : 'end') });
        });
        socket.send(JSON.stringify({ type: 'ready', agent: actor.self.id, session: sub.id, prefetch: sub.prefetch, visibility_seconds: hub.settings.get('delivery.visibilitySeconds') }));
        for await (const ev of sub) {
          if (socket.readyState !== socket.OPEN) break;
          if (socket.bufferedAmount > maxBuffered) {
            sub.close(new HubError('slow_consumer', `more than ${maxBuffered} bytes waiting for this client`));
            break;
          }
          send(eventJson(ev));
        }
        if (!closedByPeer && socket.readyState === socket.OPEN) {
          const reason = sub.reason;
          socket.close(closeCodeFor(reason), reason?.code ?? 'end');
          // A peer that reads nothing never answers the close handshake.
          setTimeout(() => socket.terminate(), 2000).unref();
        }
      })();
    },
  );
}
