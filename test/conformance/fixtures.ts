// Helpers shared by the conformance suites: a clock that only moves forward, messages, agents.
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import type { Message } from '../../src/domain/message.js';
import { HubError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';

let clock = 1_800_000_000_000;
/** A time 10 ms after the last one: orders what the suites create. */
export const tick = (): number => (clock += 10);
/** The last time handed out, without moving the clock. */
export const lastTick = (): number => clock;

export function msg(sender: string, to: string[], over: Partial<Message> = {}): Message {
  const at = tick();
  const id = newId(at);
  return {
    id,
    sender,
    to,
    kind: 'A2A',
    type: 'text',
    priority: 'regular',
    subject: '',
    body: `hello from ${sender}`,
    tags: [],
    threadId: id,
    replyTo: null,
    metadata: {},
    createdAt: at,
    expiresAt: null,
    idempotencyKey: null,
    ...over,
  };
}

/** Registers agents; `cap` is a captain. */
export async function seed(store: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await store.createAgent({ id, role: id === 'cap' ? 'captain' : 'agent', specialty: '', capabilities: [], createdAt: tick() });
}

/** Stores a message with a delivery to each of its addresses (and its channels, when given). */
export async function send(store: Store, m: Message, channels?: string[]): Promise<Message> {
  const r = await store.appendMessage({ message: m, recipients: m.to, requestHash: `h-${m.id}`, ...(channels === undefined ? {} : { channels }) });
  return r.message;
}

export async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof HubError && e.code === code);
}
