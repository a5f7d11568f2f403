// The one mapping from the wire's send body to the hub's SendInput (HTTP route and WebSocket frame).
import type { SendBody } from '../api/schemas.js';
import { HubError } from '../errors.js';
import type { SendInput } from '../hub/messages.js';

export function toSendInput(b: SendBody, headerKey?: string): SendInput {
  if (headerKey !== undefined && b.idempotency_key !== undefined && headerKey !== b.idempotency_key) {
    throw new HubError('validation_failed', 'Idempotency-Key header and idempotency_key field differ');
  }
  return {
    to: b.to,
    body: b.body,
    subject: b.subject,
    type: b.type,
    priority: b.priority,
    tags: b.tags,
    threadId: b.thread_id,
    replyTo: b.reply_to,
    metadata: b.metadata,
    expiresAt: b.expires_at === undefined ? undefined : Date.parse(b.expires_at),
    idempotencyKey: b.idempotency_key ?? headerKey,
  };
}
