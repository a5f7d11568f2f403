// Delivery targets between the wire (snake_case, seconds) and the domain (camelCase, ms): the body
// of POST /v1/agents/:id/targets to settings and filter, and a target to its answer.
import { describeTarget, type Target, type TargetFilter, type TargetSettings } from '../domain/target.js';
import type { TargetBacklog } from '../store/store.js';
import type { TargetCreateBody, WireTarget, WireTargetStatus } from './target-schemas.js';

export const WEBHOOK_TIMEOUT_SECONDS = 10;
export const COMMAND_TIMEOUT_SECONDS = 30;

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const ms = (s: number): number => Math.round(s * 1000);

export function targetInput(b: TargetCreateBody): { settings: TargetSettings; filter: TargetFilter; secret: string | undefined } {
  const filter: TargetFilter = { minPriority: b.min_priority ?? 'low', types: b.types ?? null, channels: b.channels ?? null, senders: b.senders ?? null };
  switch (b.kind) {
    case 'webhook':
      return { settings: { kind: 'webhook', url: b.url, timeoutMs: ms(b.timeout_seconds ?? WEBHOOK_TIMEOUT_SECONDS) }, filter, secret: b.secret };
    case 'file':
      return { settings: { kind: 'file', dir: b.dir, statusMirror: b.status_mirror ?? false }, filter, secret: undefined };
    case 'tmux':
      return { settings: { kind: 'tmux', pane: b.pane, allowShell: b.allow_shell ?? false, idleMs: ms(b.idle_seconds ?? 0), socket: b.socket ?? '' }, filter, secret: undefined };
    case 'command':
      return { settings: { kind: 'command', argv: b.argv, timeoutMs: ms(b.timeout_seconds ?? COMMAND_TIMEOUT_SECONDS) }, filter, secret: undefined };
  }
}

function wireSettings(s: TargetSettings): Record<string, unknown> {
  switch (s.kind) {
    case 'webhook':
      return { url: s.url, timeout_seconds: s.timeoutMs / 1000 };
    case 'file':
      return { dir: s.dir, status_mirror: s.statusMirror };
    case 'tmux':
      return { pane: s.pane, allow_shell: s.allowShell, idle_seconds: s.idleMs / 1000, socket: s.socket };
    case 'command':
      return { argv: s.argv, timeout_seconds: s.timeoutMs / 1000 };
  }
}

export function wireTarget(t: Target): WireTarget {
  return {
    id: t.id,
    agent: t.agentId,
    kind: t.settings.kind,
    settings: wireSettings(t.settings),
    where: describeTarget(t.settings),
    filter: { min_priority: t.filter.minPriority, types: t.filter.types, channels: t.filter.channels, senders: t.filter.senders },
    created_by: t.createdBy,
    created_at: new Date(t.createdAt).toISOString(),
    last_success_at: iso(t.lastSuccessAt),
    last_error: t.lastError,
    last_error_at: iso(t.lastErrorAt),
    breaker: { state: t.breaker.state, until: iso(t.breaker.until) },
  };
}

export function wireTargetStatus(t: Target & { backlog: TargetBacklog }): WireTargetStatus {
  return { ...wireTarget(t), backlog: { pending: t.backlog.pending, dead: t.backlog.dead, oldest_at: iso(t.backlog.oldestAt) } };
}
