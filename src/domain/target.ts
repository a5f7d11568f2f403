// Delivery targets: where the hub pushes an agent's messages besides its inbox (a webhook, a
// directory of markdown files, a tmux pane running the agent's TUI, a command). Each target has a
// filter; a message the filter lets through gets a copy queued for that target when it is sent,
// and the worker's deliverers push it with retries (src/delivery/). The agent's inbox is not
// touched: a push tells the agent, the agent still acknowledges.
import type { MessageType, Priority } from './message.js';
import { PRIORITIES } from './message.js';

export const TARGET_KINDS = ['webhook', 'file', 'tmux', 'command'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** `SESSION:WINDOW.PANE` as tmux writes it; the session may be any name tmux accepts but ':' or '.'. */
export const TMUX_PANE_PATTERN = /^[A-Za-z0-9_@%+=-][A-Za-z0-9_@%+=. -]{0,63}:[0-9]{1,4}\.[0-9]{1,4}$/;
/** Most targets one agent may have. */
export const MAX_TARGETS_PER_AGENT = 16;

export interface WebhookSettings {
  kind: 'webhook';
  url: string;
  /** Milliseconds a request may take. */
  timeoutMs: number;
}
export interface FileSettings {
  kind: 'file';
  /** Absolute directory holding `agent_workspaces/<Agent>/`. */
  dir: string;
  /** Also keep `agent_workspaces/<Agent>/status.json` (presence and mission). */
  statusMirror: boolean;
}
export interface TmuxSettings {
  kind: 'tmux';
  pane: string;
  /** Paste even when the pane runs a shell (a body would be typed at a prompt). */
  allowShell: boolean;
  /** Wait for the pane to stay unchanged this long before pasting; 0: do not wait. */
  idleMs: number;
  /** tmux server socket (`tmux -S`); '' for the user's default server. */
  socket: string;
}
export interface CommandSettings {
  kind: 'command';
  argv: string[];
  timeoutMs: number;
}
export type TargetSettings = WebhookSettings | FileSettings | TmuxSettings | CommandSettings;

export interface TargetFilter {
  /** Lowest priority pushed. */
  minPriority: Priority;
  /** Only these message types; null: every type. */
  types: MessageType[] | null;
  /** Only messages posted to these channels (names without '#'); null: direct messages and channels alike. */
  channels: string[] | null;
  /** Only messages from these senders; null: anyone. */
  senders: string[] | null;
}

export interface Target {
  id: string;
  agentId: string;
  settings: TargetSettings;
  filter: TargetFilter;
  createdBy: string;
  createdAt: number;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** The circuit breaker as the worker pushing to it last recorded it. */
  breaker: BreakerState;
}

export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  /** Open: when a probe may be tried. */
  until: number | null;
}

/** A target with its webhook signing secret (never shown after creation). */
export interface TargetWithSecret extends Target {
  secret: string;
}

export const NO_FILTER: TargetFilter = { minPriority: 'low', types: null, channels: null, senders: null };

/** Whether the filter lets the message through. `channels`: the channels it was posted to. */
export function passes(f: TargetFilter, m: { priority: Priority; type: MessageType; sender: string }, channels: readonly string[]): boolean {
  if (PRIORITIES.indexOf(m.priority) < PRIORITIES.indexOf(f.minPriority)) return false;
  if (f.types !== null && !f.types.includes(m.type)) return false;
  if (f.senders !== null && !f.senders.includes(m.sender)) return false;
  if (f.channels !== null && !channels.some((c) => f.channels?.includes(c) === true)) return false;
  return true;
}

/** One line for tables: where the target pushes. */
export function describeTarget(s: TargetSettings): string {
  switch (s.kind) {
    case 'webhook':
      return s.url;
    case 'file':
      return `${s.dir}${s.statusMirror ? ' (+status.json)' : ''}`;
    case 'tmux':
      return `${s.socket === '' ? '' : `${s.socket} `}${s.pane}${s.allowShell ? ' (shell allowed)' : ''}`;
    case 'command':
      return s.argv.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  }
}

/** One line for tables: what the filter lets through. */
export function describeFilter(f: TargetFilter): string {
  const parts: string[] = [];
  if (f.minPriority !== 'low') parts.push(`priority>=${f.minPriority}`);
  if (f.types !== null) parts.push(`types=${f.types.join(',')}`);
  if (f.channels !== null) parts.push(`channels=${f.channels.map((c) => `#${c}`).join(',')}`);
  if (f.senders !== null) parts.push(`from=${f.senders.join(',')}`);
  return parts.length === 0 ? 'everything' : parts.join(' ');
}

