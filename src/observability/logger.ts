// The one logger: pino, JSON lines with ECS-style field names so that Elasticsearch can index them.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    messageKey: 'message',
    timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ 'log.level': label }) },
    base: { 'service.name': 'swarm' },
    redact: { paths: ['req.headers.authorization', 'token'], censor: '[redacted]' },
  });
}

export type { Logger };
