// The one logger: pino, JSON lines with ECS field names so that Elasticsearch indexes them as they
// are (deploy/elasticsearch/index-template.json). Fastify's request fields are renamed on the way
// out (formatters.log sees the request and the reply themselves, before any serializer):
// `req` → `http.request.method`, `url.path` (`url.query`), `url.domain`, `client.ip`,
// `client.port`; `res` → `http.response.status_code`; `responseTime` (ms) → `event.duration` (ns).
// The request id is Fastify's binding, named `http.request.id` (server/app.ts); request lines carry
// the agent as `user.id` once it is known. The hub makes no outgoing calls, so there is no trace id.
import { pino, type Logger } from 'pino';

interface FastifyRequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's fields as ECS ones; everything else as it is. */
export function toEcs(o: Record<string, unknown>): Record<string, unknown> {
  const { req, res, responseTime, url, file, ...rest } = o as { req?: FastifyRequestLike; res?: { statusCode?: number }; responseTime?: number; url?: unknown; file?: unknown } & Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  const http: Record<string, unknown> = {};
  if (req !== undefined && typeof req === 'object') {
    http.request = { method: req.method };
    const [path, query] = (req.url ?? '').split('?', 2);
    out.url = { path, ...(query === undefined ? {} : { query }), ...(typeof req.host === 'string' ? { domain: req.host.replace(/:\d+$/, '') } : {}) };
    out.client = { ip: req.ip, port: req.socket?.remotePort };
  } else if (typeof url === 'string') out.url = { full: url };
  if (res !== undefined && typeof res === 'object') http.response = { status_code: res.statusCode };
  if (Object.keys(http).length > 0) out.http = http;
  if (typeof responseTime === 'number') out.event = { duration: Math.round(responseTime * 1e6) };
  if (typeof file === 'string') out.file = { path: file };
  return out;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    messageKey: 'message',
    timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ 'log.level': label }), log: toEcs },
    base: { 'service.name': 'swarm' },
    redact: { paths: ['req.headers.authorization', 'token'], censor: '[redacted]' },
  });
}

export type { Logger };
