// RFC 9457 problem details for every error the server answers. Client mistakes map to 4xx with a
// stable `code`; only a bug gives a 5xx, and then without internals.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ErrorCode, HubError, httpStatusOf } from '../errors.js';
import type { Problem } from '../api/schemas.js';

const TITLES: Partial<Record<ErrorCode, string>> = {
  invalid_json: 'Malformed JSON',
  validation_failed: 'Invalid request',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  agent_not_found: 'Unknown agent',
  message_not_found: 'Unknown message',
  unknown_recipient: 'Unknown recipient',
  too_many_recipients: 'Too many recipients',
  overloaded: 'Hub overloaded',
  agent_exists: 'Agent already exists',
  idempotency_conflict: 'Idempotency key reused',
  store_unavailable: 'Store unavailable',
  store_busy: 'Store busy',
  storage_full: 'Storage full',
  storage_io_error: 'Storage I/O error',
  rate_limited: 'Too many requests',
  too_many_streams: 'Too many open streams',
  integrity_failed: 'Stored data fails authentication',
  rotation_running: 'A key rotation is running',
  internal: 'Internal error',
};

/**
 * Seconds to wait before trying again, for answers that mean "not now" rather than "no" and carry
 * no wait of their own: the store is away (a database restart takes seconds) or busy (another
 * writer held the file's lock past the busy timeout), this process is shutting down (a balancer
 * sends the retry elsewhere), its commit queue is full (it drains within a few commits), or the
 * disk failed a write (the hub is unready until one succeeds again). RFC 9110 §10.2.3:
 * Retry-After with 503. A full disk (507) names no wait: space comes back when an operator frees it.
 */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { store_unavailable: 1, store_busy: 1, storage_io_error: 5, shutting_down: 1, overloaded: 1 };

export function problemOf(code: ErrorCode, detail: string, extra?: Partial<Problem>): Problem {
  return {
    type: `urn:swarm:error:${code}`,
    title: TITLES[code] ?? code,
    status: httpStatusOf(code),
    detail,
    code,
    ...extra,
  };
}

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { keys?: string[] };
}

function validationProblem(err: FastifyError & { validation: unknown[]; validationContext?: string }): Problem {
  const where = err.validationContext ?? 'body';
  const errors = (err.validation as ValidationIssue[]).map((v) => {
    const segments = (v.instancePath ?? '').split('/').filter((s) => s !== '');
    const path = [where, ...segments].join('.');
    let message = v.message ?? 'invalid';
    if (v.keyword === 'unrecognized_keys' && v.params?.keys) {
      message = `unknown field${v.params.keys.length > 1 ? 's' : ''}: ${v.params.keys.join(', ')}`;
    }
    return { path, message };
  });
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return problemOf('validation_failed', detail || `invalid ${where}`, { errors });
}

/** Maps any thrown error to a problem document. */
export function toProblem(err: unknown): Problem {
  if (err instanceof HubError) {
    const retry = err.details?.retryAfterSeconds ?? RETRY_AFTER_SECONDS[err.code];
    return problemOf(err.code, err.message, typeof retry === 'number' ? { retry_after: retry } : undefined);
  }
  const fe = err as FastifyError & { validation?: unknown[] };
  if (hasZodFastifySchemaValidationErrors(err)) return validationProblem(err as never);
  if (Array.isArray(fe.validation)) return validationProblem(fe as never);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemOf('payload_too_large', `request body exceeds the limit (setting limits.bodyBytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problemOf('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemOf('invalid_json', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problemOf('validation_failed', 'the Content-Length header does not match the body');
    default:
      break;
  }
  // secure-json-parse / JSON.parse errors, prototype-poisoning refusals.
  if (fe.statusCode === 400 && (err instanceof SyntaxError || /JSON|proto/i.test(fe.message))) {
    return problemOf('invalid_json', `malformed JSON: ${fe.message}`);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { ...problemOf('validation_failed', fe.message), status: fe.statusCode };
  }
  return problemOf('internal', 'internal error; the hub log has the details');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.retry_after !== undefined) reply.header('retry-after', String(problem.retry_after));
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send({ ...problem, instance: request.url.split('?')[0], request_id: String(request.id) });
}
