// Stream events on the wire. A broadcast is handed to many consumers; its message JSON is
// serialised once and reused (a small cache by message id), the per-consumer part is spliced in
// as text: it is once per delivery, and building an object to stringify it cost more than the
// rest of the event (docs/benchmarks.md, fan-out). A message to one agent is handed out once
// (again only on redelivery): it is not cached, so that a backlog drained by one consumer does not
// fill the cache with text never used again.
import type { WireDeliveryEvent, WirePresenceEvent } from '../../api/schemas.js';
import { isoTime, wireMessage } from '../../api/wire.js';
import { BROADCAST, type Message } from '../../domain/message.js';
import type { PresenceEvent, StreamEvent } from '../../hub/subscription.js';
import type { LeasedItem } from '../../store/store.js';

/** Bounded by characters, not entries: one message may be megabytes. */
const CACHE_MAX_CHARS = 4 * 1024 * 1024;
const messageJson = new Map<string, string>();
let cachedChars = 0;

/** Whether the message may reach more than one agent: `all`, a channel, or several addresses. */
function manyRecipients(m: Message): boolean {
  const first = m.to[0];
  return m.to.length > 1 || first === BROADCAST || first?.startsWith('#') === true;
}

function cachedMessageJson(m: Message): string {
  let json = messageJson.get(m.id);
  if (json === undefined) {
    json = JSON.stringify(wireMessage(m));
    if (!manyRecipients(m)) return json;
    if (json.length > CACHE_MAX_CHARS / 4) return json; // too big to be worth keeping
    while (cachedChars + json.length > CACHE_MAX_CHARS && messageJson.size > 0) {
      const [oldest, text] = messageJson.entries().next().value as [string, string];
      messageJson.delete(oldest);
      cachedChars -= text.length;
    }
    messageJson.set(m.id, json);
    cachedChars += json.length;
  }
  return json;
}

/** A time as a JSON value: an ISO string (no character in it needs escaping) or null. */
function timeJson(ms: number | null): string {
  const t = isoTime(ms);
  return t === null ? 'null' : `"${t}"`;
}

/**
 * The delivery event as JSON text, without re-serialising the message: the same text as
 * JSON.stringify of the event with `wireDelivery(item.delivery)` (test/unit/stream-events.test.ts).
 * A state is one of a closed set of plain words; the recipient is quoted as JSON.
 */
export function deliveryJson(item: LeasedItem): string {
  const d = item.delivery;
  return `{"type":"delivery","event_id":${item.handout},"attempt":${item.attempt},"lease_expires_at":"${isoTime(item.leaseUntil) ?? ''}","delivery":{"recipient":${JSON.stringify(d.recipient)},"state":"${d.state}","delivered_at":${timeJson(d.deliveredAt)},"read_at":${timeJson(d.readAt)},"acked_at":${timeJson(d.ackedAt)}},"message":${cachedMessageJson(item.message)}}`;
}

export function presenceWire(ev: PresenceEvent): WirePresenceEvent {
  return { type: 'presence', agent: ev.agent, presence: ev.presence, status: ev.status, mission: ev.mission, at: new Date(ev.at).toISOString() };
}

export function eventJson(ev: StreamEvent): string {
  return ev.type === 'delivery' ? deliveryJson(ev.item) : JSON.stringify(presenceWire(ev));
}

export type { WireDeliveryEvent };
