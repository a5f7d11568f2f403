// PostgreSQL text cannot hold U+0000 (SQLite can): input with it is refused, never half-stored.
// For the same reason NUL can join two stored strings into one map key without ambiguity.
import type { Message } from '../../domain/message.js';
import { HubError } from '../../errors.js';

export function refuseNul(what: string, ...values: (string | null)[]): HubError | null {
  for (const v of values) if (v !== null && v.includes('\0')) return new HubError('validation_failed', `${what} contains a NUL character (U+0000), which this store cannot keep`);
  return null;
}

export function nulInMessage(m: Message): HubError | null {
  return refuseNul('the message', m.id, m.sender, m.subject, m.body, m.threadId, m.replyTo, m.idempotencyKey, ...m.tags, ...m.to);
}

/** One map key for a pair of stored strings (neither can contain NUL). */
export function key(a: string, b: string): string {
  return `${a}\0${b}`;
}
