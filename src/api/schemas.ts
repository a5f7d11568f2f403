// The HTTP wire contract: zod schemas that validate requests, describe responses,
// and generate /openapi.json (through fastify-type-provider-zod). The client imports the inferred
// types, so the CLI and the server cannot disagree on a field. Wire names are snake_case; times
// are ISO 8601 strings. Callers import every schema from here; the administration's (settings,
// keys, audit, tokens) live in admin-schemas.ts, the primitives in primitives.ts.
import { z } from 'zod';
import { PRESENCE, ROLES } from '../domain/agent.js';
import { AgentId, MessageId, Time } from './primitives.js';
import { ID_PATTERN } from '../domain/ids.js';
import { DELIVERY_STATES, MESSAGE_TYPES, PRIORITIES } from '../domain/message.js';

export { AgentId, MessageId } from './primitives.js';
const Tag = z.string().regex(/^[^\s,]{1,64}$/, 'a tag: 1-64 characters, no spaces or commas');
const Capability = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a capability: 1-64 of letters, digits, . _ : -');
/** Deepest nesting accepted in metadata: deeper documents overflow the stack of JSON tools. */
export const MAX_METADATA_DEPTH = 32;

/** Nesting depth of a JSON value, without recursion (a hostile document must not overflow the stack). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > MAX_METADATA_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Any recipient string; the hub checks each address and says which one is wrong. */
const Address = z.string().min(1).max(200);

export const SendBody = z.strictObject({
  to: z.union([Address, z.array(Address).min(1)]).describe('an agent id, a comma list, an array of them, or "all"'),
  body: z.string().min(1, 'body must not be empty').max(4 * 1024 * 1024),
  subject: z.string().max(300).optional(),
  type: z.enum(MESSAGE_TYPES).optional().describe('default text'),
  priority: z.enum(PRIORITIES).optional().describe('default regular'),
  tags: z.array(Tag).max(32).optional(),
  thread_id: MessageId.optional(),
  reply_to: MessageId.optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => jsonDepth(m) <= MAX_METADATA_DEPTH, `metadata nests deeper than ${MAX_METADATA_DEPTH} levels`)
    .optional(),
  expires_at: Time.optional(),
  idempotency_key: z.string().min(1).max(200).optional().describe('or the Idempotency-Key header'),
});
export type SendBody = z.input<typeof SendBody>;
export const SendHeaders = z.object({ 'idempotency-key': z.string().min(1).max(200).optional() });

export const WireMessage = z.object({
  id: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  kind: z.string().describe('derived sender/recipient tag: A2A, C2A, C2A-ALL, A2C, H2A, S2A'),
  type: z.enum(MESSAGE_TYPES),
  priority: z.enum(PRIORITIES),
  subject: z.string(),
  body: z.string(),
  tags: z.array(z.string()),
  thread_id: z.string(),
  reply_to: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
});
export type WireMessage = z.infer<typeof WireMessage>;

export const WireDelivery = z.object({
  recipient: z.string(),
  state: z.enum(DELIVERY_STATES),
  delivered_at: z.string().nullable(),
  read_at: z.string().nullable(),
  acked_at: z.string().nullable(),
});

export const WireInboxItem = z.object({ message: WireMessage, delivery: WireDelivery });
export type WireInboxItem = z.infer<typeof WireInboxItem>;

export const SendResponse = z.object({
  message: WireMessage,
  recipients: z.array(z.string()),
  duplicate: z.boolean().describe('true when an earlier send with the same idempotency key answered'),
});
export type SendResponse = z.infer<typeof SendResponse>;

const boolQuery = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const InboxQuery = z.strictObject({
  unread: boolQuery.optional(),
  all: boolQuery.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  wait: z.coerce.number().min(0).max(3600).optional().describe('seconds to long-poll when the inbox is empty'),
});
export const InboxResponse = z.object({ agent: z.string(), items: z.array(WireInboxItem) });
export type InboxResponse = z.infer<typeof InboxResponse>;

export const AckBody = z.strictObject({ ids: z.array(MessageId).min(1).max(1000) });
export const AckResponse = z.object({ acked: z.array(z.string()), already: z.array(z.string()) });
export type AckResponse = z.infer<typeof AckResponse>;

export const IdParams = z.strictObject({ id: MessageId });
export const AgentParams = z.strictObject({ id: AgentId });

export const MessageResponse = z.object({ message: WireMessage, recipients: z.array(z.string()) });
export type MessageResponse = z.infer<typeof MessageResponse>;
export const MessagesResponse = z.object({ messages: z.array(WireMessage) });
export type MessagesResponse = z.infer<typeof MessagesResponse>;

export const HistoryQuery = z.strictObject({
  agent: AgentId.optional(),
  since: Time.optional(),
  type: z.enum(MESSAGE_TYPES).optional(),
  search: z.string().min(1).max(500).optional(),
  channel: z.string().regex(/^#?[a-z0-9][a-z0-9._-]{0,49}$/, 'a channel name').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export const WireAgent = z.object({
  id: z.string(),
  role: z.enum(ROLES),
  specialty: z.string(),
  capabilities: z.array(z.string()),
  status: z.enum(PRESENCE).describe('the status the agent last set'),
  presence: z.enum(PRESENCE).describe('what the roster shows: status, or idle/offline after silence'),
  mission: z.string(),
  created_at: z.string(),
  last_seen_at: z.string().nullable(),
});
export type WireAgent = z.infer<typeof WireAgent>;

export const RegisterBody = z.strictObject({
  id: AgentId,
  role: z.enum(ROLES).default('agent'),
  specialty: z.string().max(200).optional(),
  capabilities: z.array(Capability).max(64).optional(),
});
export type RegisterBody = z.input<typeof RegisterBody>;
export const RegisterResponse = z.object({ agent: WireAgent, token: z.string().describe('shown once; stored only as a hash') });
export type RegisterResponse = z.infer<typeof RegisterResponse>;
export const AgentsResponse = z.object({ agents: z.array(WireAgent) });
export type AgentsResponse = z.infer<typeof AgentsResponse>;
export const AgentResponse = z.object({ agent: WireAgent });
export type AgentResponse = z.infer<typeof AgentResponse>;

export const StatusBody = z.strictObject({ status: z.enum(PRESENCE), mission: z.string().max(500).optional() });
export type StatusBody = z.input<typeof StatusBody>;

export const OnboardBody = RegisterBody.extend({ template: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,49}$/).optional().describe('default onboarding') });
export const OnboardResponse = z.object({ agent: WireAgent, token: z.string(), message_id: z.string() });
export type OnboardResponse = z.infer<typeof OnboardResponse>;

export const WrapupBody = z.strictObject({ to: z.union([z.literal('all'), AgentId]) });
export const WrapupResponse = z.object({ message_ids: z.array(z.string()), recipients: z.array(z.string()) });
export type WrapupResponse = z.infer<typeof WrapupResponse>;

export const WhoamiResponse = z.object({ principal: WireAgent, self: WireAgent });
export type WhoamiResponse = z.infer<typeof WhoamiResponse>;

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
  request_id: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  retry_after: z.number().int().optional().describe('rate_limited, store_unavailable, store_busy, storage_io_error, shutting_down: seconds to wait before trying again (also the Retry-After header)'),
});
export type Problem = z.infer<typeof Problem>;

// ---- delivery: nack, queue, dead letters, streams ---------------------------------------------

export const NackBody = z.strictObject({
  ids: z.array(MessageId).min(1).max(1000),
  delay_seconds: z.number().min(0).max(86400).optional().describe('not delivered again before this many seconds'),
});
export const NackResponse = z.object({ nacked: z.array(z.string()) });
export type NackResponse = z.infer<typeof NackResponse>;

export const QueueQuery = z.strictObject({ agent: AgentId.optional() });
export const WireQueueStat = z.object({
  agent: z.string(),
  depth: z.number().describe('open deliveries not leased right now'),
  in_flight: z.number().describe('leased to a consumer, not yet acknowledged'),
  delayed: z.number().describe('nacked with a delay still running (part of depth)'),
  redeliveries: z.number(),
  dead: z.number(),
  acked: z.number(),
  expired: z.number(),
  streams: z.number().describe('streams open for the agent on this hub process'),
});
export const QueueStatsResponse = z.object({ agents: z.array(WireQueueStat) });
export type QueueStatsResponse = z.infer<typeof QueueStatsResponse>;

export const DlqQuery = z.strictObject({ agent: AgentId.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });
export const WireDeadLetter = z.object({
  message: WireMessage,
  delivery: WireDelivery,
  attempts: z.number(),
  reason: z.string(),
  dead_at: z.string(),
});
export const DeadLettersResponse = z.object({ dead: z.array(WireDeadLetter) });
export type DeadLettersResponse = z.infer<typeof DeadLettersResponse>;
export const DlqRetryBody = z.strictObject({ agent: AgentId.optional(), ids: z.array(MessageId).min(1).max(1000).optional() });
export const DlqRetryResponse = z.object({ retried: z.array(z.object({ agent: z.string(), message_id: z.string() })) });
export type DlqRetryResponse = z.infer<typeof DlqRetryResponse>;

const boolParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const StreamQuery = z.strictObject({
  presence: boolParam.optional().describe('also receive presence changes of every agent'),
  prefetch: z.coerce.number().int().min(1).max(10000).optional().describe('most unacknowledged deliveries at a time'),
  last_event_id: z.coerce.number().int().min(0).optional().describe('resume after this event (SSE: or the Last-Event-ID header)'),
});

/** Frames a WebSocket client sends. `id` is echoed in the answer, to match replies to requests. */
const FrameId = z.string().max(100).optional();
export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('send'), id: FrameId, message: SendBody }),
  z.strictObject({ type: z.literal('ack'), id: FrameId, ids: z.array(MessageId).min(1).max(1000) }),
  z.strictObject({ type: z.literal('nack'), id: FrameId, ids: z.array(MessageId).min(1).max(1000), delay_seconds: z.number().min(0).max(86400).optional() }),
  z.strictObject({ type: z.literal('ping'), id: FrameId }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export const CLIENT_FRAME_TYPES = ['send', 'ack', 'nack', 'ping'] as const;

/** A delivery as streams carry it (WebSocket frame `delivery`, SSE event `delivery`). */
export interface WireDeliveryEvent {
  type: 'delivery';
  event_id: number;
  attempt: number;
  lease_expires_at: string;
  message: WireMessage;
  delivery: z.infer<typeof WireDelivery>;
}

export interface WirePresenceEvent {
  type: 'presence';
  agent: string;
  presence: string;
  status: string;
  mission: string;
  at: string;
}

// ---- coordination: channels, tasks, reviews, leaderboard, reports, templates ------------------

const ChannelName = z.string().regex(/^#?[a-z0-9][a-z0-9._-]{0,49}$/, 'a channel name: lower-case letters, digits, . _ - (at most 50), optionally with #');
export const ChannelParams = z.strictObject({ name: ChannelName });
export const ChannelBody = z.strictObject({
  name: ChannelName,
  description: z.string().max(500).optional(),
  auto_join: z.boolean().optional().describe('new agents join it when registered (captains and admins)'),
});
export const WireChannel = z.object({
  name: z.string(),
  description: z.string(),
  auto_join: z.boolean(),
  created_by: z.string(),
  created_at: z.string(),
  members: z.number(),
  member: z.boolean().optional(),
});
export type WireChannel = z.infer<typeof WireChannel>;
export const ChannelResponse = z.object({ channel: WireChannel });
export type ChannelResponse = z.infer<typeof ChannelResponse>;
export const ChannelsResponse = z.object({ channels: z.array(WireChannel) });
export type ChannelsResponse = z.infer<typeof ChannelsResponse>;
export const MembershipResponse = z.object({ channel: z.string(), changed: z.boolean() });
export type MembershipResponse = z.infer<typeof MembershipResponse>;
export const MembersResponse = z.object({ channel: z.string(), members: z.array(z.string()) });
export type MembersResponse = z.infer<typeof MembersResponse>;
export const ChannelHistoryQuery = z.strictObject({
  search: z.string().min(1).max(500).optional(),
  since: Time.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export const TaskId = z.string().regex(ID_PATTERN, 'a task id (26-character ULID)');
export const TaskParams = z.strictObject({ id: TaskId });
export const TaskBody = z.strictObject({
  title: z.string().trim().min(1, 'a task needs a title').max(300),
  description: z.string().max(100_000).optional(),
  points: z.number().int('points must be a whole number').min(0, 'points cannot be negative').max(100_000),
  role: z.enum(ROLES).optional(),
  capabilities: z.array(Capability).max(32).optional(),
  priority: z.enum(PRIORITIES).optional(),
});
export type TaskBody = z.input<typeof TaskBody>;
export const WireTask = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  points: z.number(),
  role: z.string().nullable(),
  capabilities: z.array(z.string()),
  priority: z.enum(PRIORITIES),
  status: z.enum(['open', 'claimed', 'done', 'verified']),
  assignee: z.string().nullable(),
  claimed_at: z.string().nullable(),
  done_at: z.string().nullable(),
  note: z.string(),
  verified_at: z.string().nullable(),
  verified_by: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  thread_id: z.string().nullable(),
});
export type WireTask = z.infer<typeof WireTask>;
export const WireReview = z.object({
  round: z.number(),
  reviewer: z.string(),
  requested_by: z.string(),
  requested_at: z.string(),
  verdict: z.enum(['approved', 'changes']).nullable(),
  comment: z.string(),
  decided_at: z.string().nullable(),
});
export const TaskResponse = z.object({ task: WireTask });
export type TaskResponse = z.infer<typeof TaskResponse>;
export const TaskShowResponse = z.object({ task: WireTask, reviews: z.array(WireReview) });
export type TaskShowResponse = z.infer<typeof TaskShowResponse>;
export const NextTaskResponse = z.object({ task: WireTask.nullable() });
export type NextTaskResponse = z.infer<typeof NextTaskResponse>;
export const TasksResponse = z.object({ tasks: z.array(WireTask) });
export type TasksResponse = z.infer<typeof TasksResponse>;
export const TasksQuery = z.strictObject({
  status: z.enum(['open', 'claimed', 'done', 'verified']).optional(),
  mine: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const DoneBody = z.strictObject({ note: z.string().max(10_000).optional() });
export const ReviewRequestBody = z.strictObject({ reviewers: z.array(AgentId).min(1).max(20) });
export const ReviewRequestResponse = z.object({ task: WireTask, round: z.number() });
export type ReviewRequestResponse = z.infer<typeof ReviewRequestResponse>;
export const ApproveBody = z.strictObject({ comment: z.string().max(10_000).optional() });
export const ChangesBody = z.strictObject({ comment: z.string().trim().min(1, 'say what should change').max(10_000) });

export const LeaderboardQuery = z.strictObject({ since: Time.optional() });
export const LeaderboardResponse = z.object({
  since: z.string().nullable(),
  agents: z.array(z.object({ agent: z.string(), points: z.number(), tasks_verified: z.number(), tasks_done: z.number(), reviews_given: z.number() })),
});
export type LeaderboardResponse = z.infer<typeof LeaderboardResponse>;

export const ReportBody = z.strictObject({
  title: z.string().trim().min(1, 'a report needs a title').max(300),
  body: z.string().min(1, 'the report is empty'),
  to: z.union([Address, z.array(Address).min(1)]).optional().describe('default #reports'),
  tags: z.array(Tag).max(32).optional(),
});
export const ReportsQuery = z.strictObject({
  channel: ChannelName.optional(),
  search: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

const TemplateName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,49}$/, 'a template name: lower-case letters, digits, . _ - (at most 50)');
export const TemplateParams = z.strictObject({ name: TemplateName });
export const TemplateBody = z.strictObject({ body: z.string().min(1).max(100_000) });
export const WireTemplate = z.object({ name: z.string(), body: z.string(), updated_by: z.string(), updated_at: z.string().nullable(), source: z.enum(['hub', 'config']) });
export const TemplateResponse = z.object({ template: WireTemplate });
export type TemplateResponse = z.infer<typeof TemplateResponse>;
export const TemplatesResponse = z.object({ templates: z.array(WireTemplate) });
export type TemplatesResponse = z.infer<typeof TemplatesResponse>;
export const TemplateSendBody = z.strictObject({
  template: TemplateName,
  to: z.union([z.literal('all'), AgentId]).default('all'),
  subject: z.string().max(300).optional(),
  priority: z.enum(PRIORITIES).optional(),
});
export const TemplateSendResponse = z.object({ message_ids: z.array(z.string()), recipients: z.array(z.string()) });
export type TemplateSendResponse = z.infer<typeof TemplateSendResponse>;

// Settings, encryption keys, the audit trail and tokens: the administration's wire schemas.
export * from './admin-schemas.js';
export * from './target-schemas.js';
export * from './retention-schemas.js';
export * from './backup-schemas.js';
