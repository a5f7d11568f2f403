// The push deliverers' one contract: try to hand one message to one target once, and say how it
// went. Retries, backoff, leases, the circuit breaker and dead letters belong to the runner above;
// a deliverer only reports, precisely enough for the runner to choose (a Retry-After, a failure
// that retrying cannot mend). A failed delivery is an Outcome, never a throw: a throw means a
// programming error.
import type { Message } from '../domain/message.js';
import { deliverByCommand } from './command.js';
import { deliverToFile } from './file.js';
import { deliverToTmux } from './tmux.js';
import { deliverByWebhook } from './webhook.js';

export interface Delivery {
  agent: string;
  message: Message;
  attempt: number;
}

/**
 * Why one try failed.
 * - `timeout`: no answer in time (or the caller's signal gave up: the error says `aborted`)
 * - `refused`: no connection (refused, reset, unknown host, TLS refused; the error names it), or no
 *   tmux server/pane to type into
 * - `http_status`: the webhook answered other than 2xx
 * - `bad_target`: the target's configuration cannot work (bad URL, unsafe agent id, missing program)
 * - `shell_refused`: the tmux pane runs a shell and the target does not allow typing into one
 * - `not_shown`: the text pasted into the pane did not appear on it; Enter was not sent
 * - `busy`: the pane never went quiet for the idle time asked
 * - `exit_status`: the command exited other than 0 (or was killed by a signal)
 * - `io`: a file system or process error while writing
 */
export type FailureReason = 'timeout' | 'refused' | 'http_status' | 'bad_target' | 'shell_refused' | 'not_shown' | 'busy' | 'exit_status' | 'io';

export type Outcome =
  | { ok: true; ms: number }
  | {
      ok: false;
      ms: number;
      reason: FailureReason;
      error: string;
      /** from Retry-After */
      retryAfterMs?: number;
      /** retrying cannot help (4xx other than 408/429, bad target config) */
      permanent?: boolean;
    };

export interface WebhookTarget {
  kind: 'webhook';
  url: string;
  secret: string;
  timeoutMs: number;
}
export interface FileTarget {
  kind: 'file';
  dir: string;
  statusMirror: boolean;
}
export interface TmuxTarget {
  kind: 'tmux';
  pane: string;
  allowShell: boolean;
  idleMs: number;
  /** tmux -S socket path, '' for default */
  socket: string;
}
export interface CommandTarget {
  kind: 'command';
  argv: string[];
  timeoutMs: number;
}
export type TargetConfig = WebhookTarget | FileTarget | TmuxTarget | CommandTarget;

/** Tries one delivery once with the deliverer of the target's kind. */
export function deliver(t: TargetConfig, d: Delivery, signal?: AbortSignal): Promise<Outcome> {
  switch (t.kind) {
    case 'webhook':
      return deliverByWebhook(t, d, signal);
    case 'file':
      return deliverToFile(t, d);
    case 'tmux':
      return deliverToTmux(t, d, signal);
    case 'command':
      return deliverByCommand(t, d, signal);
    default: {
      const never: never = t;
      throw new Error(`unknown delivery target kind ${JSON.stringify((never as { kind?: unknown }).kind)}`);
    }
  }
}
