// One error family for the whole hub. Every failure a user can see has a stable `code`; this file
// is the one place that maps codes to HTTP status and to CLI exit codes (documented by
// `swarm help exit-codes`, which renders EXIT_CODES below).

export type ErrorCode =
  | 'invalid_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'agent_not_found'
  | 'message_not_found'
  | 'unknown_recipient'
  | 'too_many_recipients'
  | 'channel_not_found'
  | 'task_not_found'
  | 'template_not_found'
  | 'target_not_found'
  | 'token_not_found'
  | 'channel_exists'
  | 'task_conflict'
  | 'agent_exists'
  | 'idempotency_conflict'
  | 'already_acked'
  | 'delivery_closed'
  | 'bad_frame'
  | 'slow_consumer'
  | 'rate_limited'
  | 'too_many_streams'
  | 'overloaded'
  | 'shutting_down'
  | 'method_not_allowed'
  | 'config_invalid'
  | 'schema_too_new'
  | 'store_unavailable'
  | 'store_busy'
  | 'storage_full'
  | 'storage_io_error'
  | 'hub_unreachable'
  | 'usage'
  | 'audit_broken'
  | 'integrity_failed'
  | 'rotation_running'
  | 'data_dir_locked'
  | 'target_failed'
  | 'internal';

export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: ErrorCode;
  /** Extra fields for the problem document (e.g. the offending key or value). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

export function isHubError(e: unknown): e is HubError {
  return e instanceof HubError;
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  agent_not_found: 404,
  message_not_found: 404,
  unknown_recipient: 422,
  too_many_recipients: 422,
  channel_not_found: 404,
  task_not_found: 404,
  template_not_found: 404,
  target_not_found: 404,
  token_not_found: 404,
  channel_exists: 409,
  task_conflict: 409,
  agent_exists: 409,
  idempotency_conflict: 409,
  already_acked: 409,
  delivery_closed: 409,
  bad_frame: 400,
  slow_consumer: 429,
  rate_limited: 429,
  too_many_streams: 429,
  overloaded: 503,
  shutting_down: 503,
  method_not_allowed: 405,
  config_invalid: 500,
  schema_too_new: 503,
  store_unavailable: 503,
  store_busy: 503,
  storage_full: 507,
  storage_io_error: 503,
  hub_unreachable: 502,
  usage: 400,
  audit_broken: 409,
  integrity_failed: 500,
  rotation_running: 409,
  data_dir_locked: 409,
  target_failed: 502,
  internal: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** CLI exit codes. Stable: scripts driving `swarm` depend on them. */
export const EXIT_CODES = [
  { exit: 0, meaning: 'success', codes: [] as ErrorCode[] },
  { exit: 1, meaning: 'unexpected internal error (a bug: please report it)', codes: ['internal'] as ErrorCode[] },
  { exit: 2, meaning: 'usage error: unknown command, bad flag or argument', codes: ['usage'] as ErrorCode[] },
  {
    exit: 3,
    meaning: 'the hub refused the input (malformed, invalid or too large, or reaching more recipients than limits.fanOut)',
    codes: ['invalid_json', 'validation_failed', 'payload_too_large', 'unsupported_media_type', 'method_not_allowed', 'bad_frame', 'too_many_recipients'] as ErrorCode[],
  },
  {
    exit: 4,
    meaning: 'not found: unknown agent, message, recipient, channel, task, template, token or delivery target',
    codes: ['not_found', 'agent_not_found', 'message_not_found', 'unknown_recipient', 'channel_not_found', 'task_not_found', 'template_not_found', 'token_not_found', 'target_not_found'] as ErrorCode[],
  },
  { exit: 5, meaning: 'authentication failed: missing, unknown or revoked token', codes: ['unauthorized'] as ErrorCode[] },
  { exit: 6, meaning: 'permission denied: the caller may not do this', codes: ['forbidden'] as ErrorCode[] },
  {
    exit: 7,
    meaning: 'conflict: already exists, already acknowledged, a task in the wrong state, an idempotency key reused for a different message, or a key rotation already running',
    codes: ['agent_exists', 'idempotency_conflict', 'already_acked', 'delivery_closed', 'channel_exists', 'task_conflict', 'rotation_running'] as ErrorCode[],
  },
  {
    exit: 8,
    meaning: 'the hub is unreachable, not ready, shutting down, overloaded (retry later), or closed a stream that fell behind; or its store is busy, out of disk space or failing to write',
    codes: ['hub_unreachable', 'store_unavailable', 'store_busy', 'storage_full', 'storage_io_error', 'shutting_down', 'slow_consumer', 'overloaded'] as ErrorCode[],
  },
  { exit: 9, meaning: 'invalid configuration (file, environment or flag)', codes: ['config_invalid'] as ErrorCode[] },
  { exit: 10, meaning: 'the database schema is newer than this version of swarm', codes: ['schema_too_new'] as ErrorCode[] },
  {
    exit: 12,
    meaning: 'stored data fails its integrity check: the audit chain is broken (records edited, deleted or reordered; swarm audit verify), or an encrypted message fails authentication (altered, or moved from another message or field), or a backup fails `swarm backup verify`',
    codes: ['audit_broken', 'integrity_failed'] as ErrorCode[],
  },
  {
    exit: 13,
    meaning: 'rate limited: too many requests, sends, open streams or failed authentications, or held by the loop guard; retry later',
    codes: ['rate_limited', 'too_many_streams'] as ErrorCode[],
  },
  {
    exit: 14,
    meaning: 'the data directory is in use by another hub (`swarm serve`): the message names its pid, host and port',
    codes: ['data_dir_locked'] as ErrorCode[],
  },
  {
    exit: 15,
    meaning: '`swarm targets test`: the test push to the delivery target failed; the message says why (timeout, refused, HTTP status, shell refused, not shown…)',
    codes: ['target_failed'] as ErrorCode[],
  },
] as const;

export function exitCodeOf(code: ErrorCode): number {
  for (const row of EXIT_CODES) if ((row.codes as readonly ErrorCode[]).includes(code)) return row.exit;
  return 1;
}

export const ERROR_CODES = Object.keys(HTTP_STATUS) as ErrorCode[];
