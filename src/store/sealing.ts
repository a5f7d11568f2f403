// How message content is held at rest, as the Store contract records it (store.ts): the `sealed`
// mark beside each message's content, the new content a re-encryption writes, and the key
// rotation jobs. encrypted-store.ts seals and opens; hub/keys.ts runs the rotations.
import type { Message } from '../domain/message.js';
import { HubError } from '../errors.js';

/**
 * A message as an adapter stores and returns it. `sealed` records how its subject, body and
 * metadata are held; encrypted-store.ts sets and reads it, and no user input reaches it. Absent:
 * as sent. A key id: sealed under that key, each value bound to the message id and its field.
 * LEGACY_SEALED: written before this was recorded (SQLite migration 0010, PostgreSQL 0007) with a
 * value in the old `enc:v1:` shape, which may be ciphertext or a sender's text that only looks
 * like it; told apart on reading, by whether it authenticates under a configured key.
 */
export interface StoredMessage extends Message {
  sealed?: string;
}

export const LEGACY_SEALED = 'legacy';

/** The new stored content of one message (re-encryption). */
export interface SealedContent {
  id: string;
  subject: string;
  body: string;
  metadata: Record<string, unknown>;
  /** As StoredMessage.sealed; null: as sent. */
  sealed: string | null;
}

export type KeyRotationState = 'running' | 'done' | 'failed';

/** A key rotation: every stored message re-encrypted under one key, in batches, resumably. */
export interface KeyRotation {
  id: string;
  /** The key id messages are re-encrypted under. */
  key: string;
  /** The key id that was current when it started. */
  previous: string;
  state: KeyRotationState;
  /** The process running it (random, one per process). */
  owner: string;
  /** The id of the last message scanned ('' before the first): the rotation resumes after it. */
  afterId: string;
  scanned: number;
  rewritten: number;
  /** Messages that could not be read (they fail authentication, or their key is missing), left as they are. */
  skipped: number;
  /** Messages stored when it started. */
  total: number;
  startedBy: string;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export function runningError(id: string): HubError {
  return new HubError('rotation_running', `key rotation ${id} is still running: one runs at a time (swarm keys status shows its progress)`, { details: { rotation: id } });
}
