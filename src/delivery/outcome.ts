// Building Outcomes: the elapsed time measured the same way by every deliverer, and the body of a
// delivery as the webhook and command deliverers send it.
import { performance } from 'node:perf_hooks';
import type { Delivery, FailureReason, Outcome } from './deliverer.js';

/** A clock for one try: `since(start)` is the Outcome's `ms`. */
export function clock(): number {
  return performance.now();
}

function since(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

export function succeeded(start: number): Outcome {
  return { ok: true, ms: since(start) };
}

export function failed(start: number, reason: FailureReason, error: string, extra: { retryAfterMs?: number; permanent?: boolean } = {}): Outcome {
  return { ok: false, ms: since(start), reason, error, ...extra };
}

/** The JSON a webhook receives and a command reads on stdin. */
export function deliveryJson(d: Delivery): string {
  return JSON.stringify({ agent: d.agent, attempt: d.attempt, message: d.message });
}

/** An error's code (ECONNREFUSED, ENOENT…) or, without one, its message. */
export function errorCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return typeof err?.code === 'string' ? err.code : String(err?.message ?? e);
}
