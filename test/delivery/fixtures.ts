// A message and a delivery as the runner hands them to a deliverer, for the deliverers' tests.
import type { Delivery } from '../../src/delivery/deliverer.js';
import { newId } from '../../src/domain/ids.js';
import type { Message } from '../../src/domain/message.js';

export function message(over: Partial<Message> = {}): Message {
  const id = newId();
  return {
    id,
    sender: 'Agent-4',
    to: ['Agent-3'],
    kind: 'C2A',
    type: 'text',
    priority: 'high',
    subject: 'Deploy window',
    body: 'The api deployment starts at 14:00.\nHold your merges.',
    tags: ['deploy'],
    threadId: id,
    replyTo: null,
    metadata: {},
    createdAt: Date.UTC(2026, 10, 27, 17, 3, 36, 123),
    expiresAt: null,
    idempotencyKey: null,
    ...over,
  };
}

export function delivery(over: Partial<Message> = {}, agent = 'Agent-3', attempt = 1): Delivery {
  return { agent, message: message(over), attempt };
}
