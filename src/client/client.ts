// Typed HTTP client for the hub API. The CLI, tests and (later) the MCP server use it; problem
// documents come back as HubError with the server's stable code.
import type {
  KeysStatusResponse,
  RotateResponse,
  AuditRecordsResponse,
  AuditVerifyResponse,
  SettingChangesResponse,
  SettingsResponse,
  ChannelResponse,
  ChannelsResponse,
  LeaderboardResponse,
  MembershipResponse,
  MembersResponse,
  NextTaskResponse,
  ReviewRequestResponse,
  TaskBody,
  TaskResponse,
  TaskShowResponse,
  TasksResponse,
  TemplateResponse,
  TemplateSendResponse,
  TemplatesResponse,
  AckResponse,
  AgentResponse,
  AgentsResponse,
  DeadLettersResponse,
  DlqRetryResponse,
  NackResponse,
  QueueStatsResponse,
  InboxResponse,
  MessageResponse,
  MessagesResponse,
  OnboardResponse,
  Problem,
  RegisterBody,
  RegisterResponse,
  SendBody,
  SendResponse,
  StatusBody,
  TokenCreateBody,
  TokenCreatedResponse,
  TokenRevokedResponse,
  TokenRotatedResponse,
  TokensResponse,
  WhoamiResponse,
  WireInboxItem,
  WrapupResponse,
} from '../api/schemas.js';
import { rootCertificates } from 'node:tls';
// One HTTP stack: undici's own fetch with undici's own Agent. Node's built-in fetch is a bundled
// undici of another major version, which refuses a dispatcher of this one (Node 26 answers
// UND_ERR_INVALID_ARG), so it is not used here at all.
import { Agent, fetch, type Response } from 'undici';
import { type ErrorCode, ERROR_CODES, HubError } from '../errors.js';

export interface ClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Act for this agent (admins and captains only). */
  as?: string | undefined;
  /** Per-request timeout in ms (long-polls add their wait on top). */
  timeoutMs?: number;
  /** PEM of a CA to trust for https (besides the system's). */
  ca?: Buffer | undefined;
  /**
   * How requests reach the hub (default: undici's fetch over the network). The hub's own /mcp
   * endpoint passes one that answers in-process (Fastify inject), so its MCP tools run through
   * the same routes, auth and audit as any client.
   */
  fetch?: ClientFetch | undefined;
}

/** The part of fetch the client uses. */
export type ClientFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; statusText: string; text(): Promise<string> }>;

export interface InboxParams {
  unread?: boolean;
  all?: boolean;
  limit?: number;
  wait?: number;
}

export interface HistoryParams {
  channel?: string | undefined;
  agent?: string | undefined;
  since?: string | undefined;
  type?: string | undefined;
  search?: string | undefined;
  limit?: number | undefined;
}

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export class SwarmClient {
  private readonly base: string;
  private readonly dispatcher: Agent | undefined;
  constructor(private readonly o: ClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    // The system CAs plus the given one: certificates are always verified.
    this.dispatcher = o.ca === undefined ? undefined : new Agent({ connect: { ca: [...rootCertificates, o.ca.toString('utf8')] } });
  }

  private async call<T>(method: string, path: string, body?: unknown, extra: { headers?: Record<string, string>; waitMs?: number; signal?: AbortSignal | undefined } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra.headers };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (this.o.as) headers['x-swarm-as'] = this.o.as;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = (this.o.timeoutMs ?? 30_000) + (extra.waitMs ?? 0);
    let res: Response | Awaited<ReturnType<ClientFetch>>;
    try {
      const body_ = body === undefined ? undefined : JSON.stringify(body);
      const signal = extra.signal === undefined ? AbortSignal.timeout(timeout) : AbortSignal.any([AbortSignal.timeout(timeout), extra.signal]);
      res = this.o.fetch !== undefined ? await this.o.fetch(this.base + path, { method, headers, body: body_, signal }) : await fetch(this.base + path, {
        method,
        headers,
        body: body_,
        signal,
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeout} ms` : (cause?.code ?? (e as Error).message);
      if (cause?.code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(cause.code)) {
        throw new HubError('hub_unreachable', `cannot verify the hub's TLS certificate at ${this.base}: ${cause.code} (trust its CA with --ca FILE or SWARM_CA)`, { cause: e });
      }
      throw new HubError('hub_unreachable', `cannot reach the hub at ${this.base}: ${why} (is \`swarm serve\` running? set --hub)`, { cause: e });
    }
    const text = await res.text();
    if (res.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
    let problem: Partial<Problem> = {};
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      // Not a problem document (a proxy's error page): fall through with the status line.
    }
    const code: ErrorCode = ERROR_CODES.includes(problem.code as ErrorCode) ? (problem.code as ErrorCode) : res.status >= 500 ? 'internal' : 'validation_failed';
    throw new HubError(code, problem.detail ?? `${res.status} ${res.statusText}`, { details: { status: res.status } });
  }

  send(body: SendBody, idempotencyKey?: string): Promise<SendResponse> {
    return this.call('POST', '/v1/messages', body, { headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });
  }
  /** `signal` ends a long-poll early (it then fails with hub_unreachable). */
  inbox(p: InboxParams = {}, signal?: AbortSignal): Promise<InboxResponse> {
    return this.call('GET', `/v1/inbox${query(p)}`, undefined, { waitMs: (p.wait ?? 0) * 1000, signal });
  }
  read(id: string): Promise<WireInboxItem> {
    return this.call('POST', `/v1/messages/${encodeURIComponent(id)}/read`);
  }
  ack(ids: string[]): Promise<AckResponse> {
    return this.call('POST', '/v1/ack', { ids });
  }
  nack(ids: string[], delaySeconds?: number): Promise<NackResponse> {
    return this.call('POST', '/v1/nack', { ids, ...(delaySeconds === undefined ? {} : { delay_seconds: delaySeconds }) });
  }
  queueStats(agent?: string): Promise<QueueStatsResponse> {
    return this.call('GET', `/v1/queue${query({ agent })}`);
  }
  deadLetters(p: { agent?: string | undefined; limit?: number | undefined } = {}): Promise<DeadLettersResponse> {
    return this.call('GET', `/v1/dlq${query(p)}`);
  }
  retryDead(p: { agent?: string | undefined; ids?: string[] | undefined }): Promise<DlqRetryResponse> {
    return this.call('POST', '/v1/dlq/retry', p);
  }
  message(id: string): Promise<MessageResponse> {
    return this.call('GET', `/v1/messages/${encodeURIComponent(id)}`);
  }
  thread(id: string): Promise<MessagesResponse> {
    return this.call('GET', `/v1/threads/${encodeURIComponent(id)}`);
  }
  history(p: HistoryParams = {}): Promise<MessagesResponse> {
    return this.call('GET', `/v1/history${query(p)}`);
  }
  agents(): Promise<AgentsResponse> {
    return this.call('GET', '/v1/agents');
  }
  agent(id: string): Promise<AgentResponse> {
    return this.call('GET', `/v1/agents/${encodeURIComponent(id)}`);
  }
  register(body: RegisterBody): Promise<RegisterResponse> {
    return this.call('POST', '/v1/agents', body);
  }
  removeAgent(id: string): Promise<void> {
    return this.call('DELETE', `/v1/agents/${encodeURIComponent(id)}`);
  }
  setStatus(body: StatusBody): Promise<AgentResponse> {
    return this.call('PUT', '/v1/status', body);
  }
  heartbeat(): Promise<AgentResponse> {
    return this.call('POST', '/v1/heartbeat');
  }
  whoami(): Promise<WhoamiResponse> {
    return this.call('GET', '/v1/whoami');
  }
  onboard(body: RegisterBody & { template?: string | undefined }): Promise<OnboardResponse> {
    return this.call('POST', '/v1/onboard', body);
  }
  wrapup(to: string): Promise<WrapupResponse> {
    return this.call('POST', '/v1/wrapup', { to });
  }
  // ---- coordination ------------------------------------------------------------------------------
  channels(): Promise<ChannelsResponse> {
    return this.call('GET', '/v1/channels');
  }
  createChannel(body: { name: string; description?: string | undefined; auto_join?: boolean | undefined }): Promise<ChannelResponse> {
    return this.call('POST', '/v1/channels', body);
  }
  joinChannel(name: string): Promise<MembershipResponse> {
    return this.call('POST', `/v1/channels/${encodeURIComponent(name.replace(/^#/, ''))}/join`);
  }
  leaveChannel(name: string): Promise<MembershipResponse> {
    return this.call('POST', `/v1/channels/${encodeURIComponent(name.replace(/^#/, ''))}/leave`);
  }
  channelMembers(name: string): Promise<MembersResponse> {
    return this.call('GET', `/v1/channels/${encodeURIComponent(name.replace(/^#/, ''))}/members`);
  }
  channelHistory(name: string, p: { search?: string | undefined; since?: string | undefined; limit?: number | undefined } = {}): Promise<MessagesResponse> {
    return this.call('GET', `/v1/channels/${encodeURIComponent(name.replace(/^#/, ''))}/history${query(p)}`);
  }
  addTask(body: TaskBody): Promise<TaskResponse> {
    return this.call('POST', '/v1/tasks', body);
  }
  tasks(p: { status?: string | undefined; mine?: boolean | undefined; limit?: number | undefined } = {}): Promise<TasksResponse> {
    return this.call('GET', `/v1/tasks${query(p)}`);
  }
  task(id: string): Promise<TaskShowResponse> {
    return this.call('GET', `/v1/tasks/${encodeURIComponent(id)}`);
  }
  nextTask(): Promise<NextTaskResponse> {
    return this.call('POST', '/v1/tasks/next');
  }
  taskAction(id: string, action: 'claim' | 'release' | 'verify'): Promise<TaskResponse> {
    return this.call('POST', `/v1/tasks/${encodeURIComponent(id)}/${action}`);
  }
  taskDone(id: string, note?: string): Promise<TaskResponse> {
    return this.call('POST', `/v1/tasks/${encodeURIComponent(id)}/done`, note === undefined ? {} : { note });
  }
  requestReview(id: string, reviewers: string[]): Promise<ReviewRequestResponse> {
    return this.call('POST', `/v1/tasks/${encodeURIComponent(id)}/reviews`, { reviewers });
  }
  approve(id: string, comment?: string): Promise<TaskResponse> {
    return this.call('POST', `/v1/tasks/${encodeURIComponent(id)}/approve`, comment === undefined ? {} : { comment });
  }
  requestChanges(id: string, comment: string): Promise<TaskResponse> {
    return this.call('POST', `/v1/tasks/${encodeURIComponent(id)}/changes`, { comment });
  }
  leaderboard(since?: string): Promise<LeaderboardResponse> {
    return this.call('GET', `/v1/leaderboard${query({ since })}`);
  }
  postReport(body: { title: string; body: string; to?: string | undefined; tags?: string[] | undefined }): Promise<SendResponse> {
    return this.call('POST', '/v1/reports', body);
  }
  reports(p: { channel?: string | undefined; search?: string | undefined; limit?: number | undefined } = {}): Promise<MessagesResponse> {
    return this.call('GET', `/v1/reports${query(p)}`);
  }
  report(id: string): Promise<MessageResponse> {
    return this.call('GET', `/v1/reports/${encodeURIComponent(id)}`);
  }
  templates(): Promise<TemplatesResponse> {
    return this.call('GET', '/v1/templates');
  }
  template(name: string): Promise<TemplateResponse> {
    return this.call('GET', `/v1/templates/${encodeURIComponent(name)}`);
  }
  setTemplate(name: string, body: string): Promise<TemplateResponse> {
    return this.call('PUT', `/v1/templates/${encodeURIComponent(name)}`, { body });
  }
  sendTemplate(body: { template: string; to?: string | undefined; subject?: string | undefined; priority?: string | undefined }): Promise<TemplateSendResponse> {
    return this.call('POST', '/v1/templates/send', body);
  }

  settings(): Promise<SettingsResponse> {
    return this.call('GET', '/v1/config');
  }
  setSetting(key: string, value: string | number | boolean): Promise<SettingChangesResponse> {
    return this.call('PUT', `/v1/config/${encodeURIComponent(key)}`, { value });
  }
  settingsHistory(limit?: number): Promise<SettingChangesResponse> {
    return this.call('GET', `/v1/config/history${query({ limit })}`);
  }
  rollbackSettings(version: number): Promise<SettingChangesResponse> {
    return this.call('POST', '/v1/config/rollback', { version });
  }

  keys(): Promise<KeysStatusResponse> {
    return this.call('GET', '/v1/keys');
  }
  /** Starts a key rotation (it runs in the background): the rotation, running. */
  rotateKey(key?: string): Promise<RotateResponse> {
    return this.call('POST', '/v1/keys/rotate', key === undefined ? {} : { key });
  }
  keyRotation(): Promise<RotateResponse> {
    return this.call('GET', '/v1/keys/rotation');
  }
  auditRecords(p: { since?: string | undefined; actor?: string | undefined; action?: string | undefined; limit?: number | undefined } = {}): Promise<AuditRecordsResponse> {
    return this.call('GET', `/v1/audit${query(p)}`);
  }
  verifyAudit(anchor?: string): Promise<AuditVerifyResponse> {
    return this.call('GET', `/v1/audit/verify${query({ anchor })}`);
  }
  createToken(body: TokenCreateBody): Promise<TokenCreatedResponse> {
    return this.call('POST', '/v1/tokens', body);
  }
  tokens(agent?: string): Promise<TokensResponse> {
    return this.call('GET', `/v1/tokens${query({ agent })}`);
  }
  revokeToken(id: string): Promise<TokenRevokedResponse> {
    return this.call('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }
  rotateToken(id: string, expiresInSeconds?: number): Promise<TokenRotatedResponse> {
    return this.call('POST', `/v1/tokens/${encodeURIComponent(id)}/rotate`, expiresInSeconds === undefined ? {} : { expires_in_seconds: expiresInSeconds });
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/readyz`, {
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }),
      });
      return res.ok;
    } catch {
      return false;
    }
  }
}
