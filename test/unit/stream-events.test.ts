// Stream events as text (src/server/stream/events.ts): the delivery event is spliced together from
// pieces for speed, so it is checked here against what serialising the whole event would give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wireDelivery, wireMessage } from '../../src/api/wire.js';
import type { Message } from '../../src/domain/message.js';
import { deliveryJson } from '../../src/server/stream/events.js';
import type { LeasedItem } from '../../src/store/store.js';

const message: Message = {
  id: 'msg-events-1',
  sender: 'sender-"q"',
  to: ['all'],
  kind: 'C2A-ALL',
  type: 'text',
  priority: 'regular',
  subject: 'a "quoted" subject \\ with \u2028 and é',
  body: 'line 1\nline 2',
  tags: ['x'],
  threadId: 'thread-1',
  replyTo: null,
  metadata: { k: [1, 'two'] },
  createdAt: Date.UTC(2026, 10, 27, 12, 0, 0, 5),
  expiresAt: null,
  idempotencyKey: null,
};

function item(over: Partial<LeasedItem['delivery']>): LeasedItem {
  return {
    message,
    delivery: { messageId: message.id, recipient: 'agent-1', state: 'delivered', deliveredAt: Date.UTC(2026, 10, 27, 12, 0, 1), readAt: null, ackedAt: null, ...over },
    handout: 42,
    attempt: 2,
    leaseUntil: Date.UTC(2026, 10, 27, 12, 0, 31, 999),
  };
}

/** The event as it was built before the splice: an object, serialised whole. */
function serialised(i: LeasedItem): string {
  return JSON.stringify({
    type: 'delivery',
    event_id: i.handout,
    attempt: i.attempt,
    lease_expires_at: new Date(i.leaseUntil).toISOString(),
    delivery: wireDelivery(i.delivery),
    message: wireMessage(i.message),
  });
}

describe('stream delivery events', () => {
  it('are the same text as the serialised event, for every delivery state and for null and set times', () => {
    const cases: Partial<LeasedItem['delivery']>[] = [
      {},
      { state: 'pending', deliveredAt: null },
      { state: 'read', readAt: Date.UTC(2026, 10, 27, 12, 0, 2, 1) },
      { state: 'acked', ackedAt: 0, readAt: 1 },
      { recipient: 'odd "agent" \\ name\u0001' },
    ];
    for (const c of cases) {
      const i = item(c);
      const text = deliveryJson(i);
      assert.equal(text, serialised(i));
      assert.deepEqual(JSON.parse(text), JSON.parse(serialised(i)));
    }
  });
});
