// The wire schemas of delivery targets (/v1/targets, /v1/agents/:id/targets): one body per kind,
// the filter, and the answers. Re-exported by schemas.ts.
import { z } from 'zod';
import { CHANNEL_NAME_PATTERN } from '../domain/channel.js';
import { MESSAGE_TYPES, PRIORITIES } from '../domain/message.js';
import { TARGET_KINDS, TMUX_PANE_PATTERN } from '../domain/target.js';
import { AgentId, Time } from './primitives.js';

const Filter = {
  min_priority: z.enum(PRIORITIES).optional().describe('lowest priority pushed (default low: all)'),
  types: z.array(z.enum(MESSAGE_TYPES)).min(1).max(MESSAGE_TYPES.length).optional().describe('only these message types'),
  channels: z.array(z.string().regex(CHANNEL_NAME_PATTERN, 'a channel name')).min(1).max(50).optional().describe('only messages posted to these channels (no #)'),
  senders: z.array(AgentId).min(1).max(100).optional().describe('only messages from these agents'),
};

const Webhook = z.strictObject({
  kind: z.literal('webhook'),
  url: z.string().min(1).max(2000),
  secret: z.string().min(16).max(200).optional().describe('HMAC-SHA256 signing secret; generated (and shown once) when absent'),
  timeout_seconds: z.number().min(0.1).max(300).optional().describe('default 10'),
  ...Filter,
});
const File = z.strictObject({
  kind: z.literal('file'),
  dir: z.string().min(1).max(1000).describe('absolute directory; messages go to DIR/agent_workspaces/<Agent>/inbox/'),
  status_mirror: z.boolean().optional().describe('also keep DIR/agent_workspaces/<Agent>/status.json'),
  ...Filter,
});
const Tmux = z.strictObject({
  kind: z.literal('tmux'),
  pane: z.string().regex(TMUX_PANE_PATTERN, 'a tmux pane as SESSION:WINDOW.PANE, e.g. agents:1.0'),
  allow_shell: z.boolean().optional().describe('paste even into a pane running a shell (a body would be typed at a prompt)'),
  idle_seconds: z.number().min(0).max(600).optional().describe('wait for the pane to stay unchanged this long before pasting'),
  socket: z.string().max(1000).optional().describe('tmux server socket (tmux -S)'),
  ...Filter,
});
const Command = z.strictObject({
  kind: z.literal('command'),
  argv: z.array(z.string().max(4000)).min(1).max(100).describe('program and arguments, run without a shell; the delivery as JSON on stdin'),
  timeout_seconds: z.number().min(0.1).max(3600).optional().describe('default 30'),
  ...Filter,
});
export const TargetCreateBody = z.discriminatedUnion('kind', [Webhook, File, Tmux, Command]);
export type TargetCreateBody = z.input<typeof TargetCreateBody>;

export const WireTarget = z.object({
  id: z.string(),
  agent: z.string(),
  kind: z.enum(TARGET_KINDS),
  /** The kind's settings, as given (never the secret). */
  settings: z.record(z.string(), z.unknown()),
  where: z.string().describe('one line: where it pushes'),
  filter: z.object({ min_priority: z.enum(PRIORITIES), types: z.array(z.string()).nullable(), channels: z.array(z.string()).nullable(), senders: z.array(z.string()).nullable() }),
  created_by: z.string(),
  created_at: Time,
  last_success_at: Time.nullable(),
  last_error: z.string().nullable(),
  last_error_at: Time.nullable(),
  breaker: z.object({ state: z.enum(['closed', 'open', 'half-open']), until: Time.nullable() }),
});
export type WireTarget = z.infer<typeof WireTarget>;
export const WireTargetStatus = WireTarget.extend({
  backlog: z.object({ pending: z.number().int(), dead: z.number().int(), oldest_at: Time.nullable() }),
});
export type WireTargetStatus = z.infer<typeof WireTargetStatus>;

export const TargetIdParams = z.strictObject({ id: z.string().min(1).max(100) });
export const TargetAgentParams = z.strictObject({ id: AgentId });
export const TargetListQuery = z.strictObject({ agent: AgentId.optional() });
export const TargetCreatedResponse = z.object({ target: WireTarget, secret: z.string().nullable().describe('the webhook signing secret: shown once') });
export type TargetCreatedResponse = z.infer<typeof TargetCreatedResponse>;
export const TargetsResponse = z.object({ targets: z.array(WireTarget) });
export type TargetsResponse = z.infer<typeof TargetsResponse>;
export const TargetStatusResponse = z.object({ targets: z.array(WireTargetStatus) });
export type TargetStatusResponse = z.infer<typeof TargetStatusResponse>;
export const TargetRemovedResponse = z.object({ removed: WireTarget });
export type TargetRemovedResponse = z.infer<typeof TargetRemovedResponse>;
export const TargetRetriedResponse = z.object({ retried: z.number().int() });
export type TargetRetriedResponse = z.infer<typeof TargetRetriedResponse>;
export const TargetTestResponse = z.object({
  ok: z.boolean(),
  ms: z.number(),
  reason: z.string().nullable().describe('why it failed: timeout, refused, http_status, bad_target, shell_refused, not_shown, busy, exit_status, io'),
  error: z.string().nullable(),
});
export type TargetTestResponse = z.infer<typeof TargetTestResponse>;
