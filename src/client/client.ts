// The typed SDK (`import { Swarm } from 'swarm-hub'`, docs/sdk.md): one method per API operation,
// streams as async iterables that resume, and problem documents back as HubError with the server's
// stable code. The CLI and the MCP server are faces over it.
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
  RetentionReportResponse,
  BackupCreatedResponse,
  BackupsResponse,
  TargetCreateBody,
  TargetCreatedResponse,
  TargetRemovedResponse,
  TargetRetriedResponse,
  TargetsResponse,
  TargetStatusResponse,
  TargetTestResponse,
  TokenCreateBody,
  TokenCreatedResponse,
  TokenRevokedResponse,
  TokenRotatedResponse,
  TokensResponse,
  WhoamiResponse,
  WireInboxItem,
  WrapupResponse,
} from '../api/schemas.js';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { type ErrorCode, ERROR_CODES, HubError } from '../errors.js';
import { agentFor, exchange, type HttpAnswer, NoAnswer } from './http.js';
import type { HubStream, StreamOptions } from './stream.js';

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
   * How requests reach the hub (default: Node's http/https over the network, http.ts). The hub's own /mcp
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

/** How a stream is opened: everything but where and as whom, which come from the Swarm. */
export type OpenStreamOptions = Omit<StreamOptions, 'baseUrl' | 'token' | 'as' | 'ca'>;

export class Swarm {
  private readonly base: string;
  private readonly http: HttpAgent | HttpsAgent;
  constructor(private readonly o: ClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    // The system CAs plus the given one: certificates are always verified.
    this.http = agentFor(this.base, o.ca);
  }

  /**
   * Where and as whom this client talks: what a stream of the same identity needs (stream.ts's
   * StreamOptions), e.g. the MCP channel's live stream beside its requests.
   */
  get connection(): Pick<ClientOptions, 'token' | 'as' | 'ca'> & { baseUrl: string } {
    return { baseUrl: this.base, token: this.o.token, as: this.o.as, ca: this.o.ca };
  }

  private async call<T>(method: string, path: string, body?: unknown, extra: { headers?: Record<string, string>; waitMs?: number; signal?: AbortSignal | undefined } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra.headers };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (this.o.as) headers['x-swarm-as'] = this.o.as;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = (this.o.timeoutMs ?? 30_000) + (extra.waitMs ?? 0);
    let res: HttpAnswer;
    try {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      if (this.o.fetch !== undefined) {
        const signal = extra.signal === undefined ? AbortSignal.timeout(timeout) : AbortSignal.any([AbortSignal.timeout(timeout), extra.signal]);
        const r = await this.o.fetch(this.base + path, { method, headers, body: payload, signal });
        res = { status: r.status, statusText: r.statusText, text: await r.text() };
      } else {
        res = await exchange(this.base + path, { method, headers, body: payload, timeoutMs: timeout, agent: this.http, signal: extra.signal });
      }
    } catch (e) {
      const why = e instanceof NoAnswer ? (e.why === 'timeout' ? `no answer within ${timeout} ms` : e.why) : (e as Error).message;
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(why)) {
        throw new HubError('hub_unreachable', `cannot verify the hub's TLS certificate at ${this.base}: ${why} (trust its CA with --ca FILE or SWARM_CA)`, { cause: e });
      }
      throw new HubError('hub_unreachable', `cannot reach the hub at ${this.base}: ${why} (is \`swarm serve\` running? set --hub)`, { cause: e });
    }
    const text = res.text;
    if (res.status >= 200 && res.status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
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
  /** Adds a delivery target for the agent; the answer holds a webhook's secret, shown once. */
  addTarget(agent: string, body: TargetCreateBody): Promise<TargetCreatedResponse> {
    return this.call('POST', `/v1/agents/${encodeURIComponent(agent)}/targets`, body);
  }
  /** Delivery targets of one agent, or of all (captains, admins). */
  targets(agent?: string): Promise<TargetsResponse> {
    return this.call('GET', `/v1/targets${query({ agent })}`);
  }
  targetStatus(agent?: string): Promise<TargetStatusResponse> {
    return this.call('GET', `/v1/targets/status${query({ agent })}`);
  }
  removeTarget(id: string): Promise<TargetRemovedResponse> {
    return this.call('DELETE', `/v1/targets/${encodeURIComponent(id)}`);
  }
  retryTarget(id: string): Promise<TargetRetriedResponse> {
    return this.call('POST', `/v1/targets/${encodeURIComponent(id)}/retry`, {});
  }
  /** Pushes a test message to the target now, outside its queue, and says how it went. */
  testTarget(id: string): Promise<TargetTestResponse> {
    return this.call('POST', `/v1/targets/${encodeURIComponent(id)}/test`, {});
  }

  /** Runs retention now (admins); `dryRun`: only says what would go. */
  runRetention(dryRun = false): Promise<RetentionReportResponse> {
    return this.call('POST', '/v1/retention/run', { dry_run: dryRun });
  }

  /** Has the hub copy its embedded store into a backup (admins); `to`: a directory on the hub's host. */
  createBackup(to?: string): Promise<BackupCreatedResponse> {
    return this.call('POST', '/v1/backups', to === undefined ? {} : { to });
  }
  backups(dir?: string): Promise<BackupsResponse> {
    return this.call('GET', `/v1/backups${query({ dir })}`);
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

  /**
   * A live stream of the caller's deliveries (WebSocket), connected: `for await (const ev of s)`,
   * `s.ack([...])`, `s.close()`. It reconnects by itself, resuming after the last event it saw;
   * give `lastEventId` (an event's `event_id` you processed) to resume in a new process.
   */
  async stream(o: OpenStreamOptions = {}): Promise<HubStream> {
    // Loaded on first use: the WebSocket library costs a command that does not stream.
    const { HubStream: Stream } = await import('./stream.js');
    const s = new Stream({ ...o, baseUrl: this.base, token: this.o.token, as: this.o.as, ca: this.o.ca });
    await s.connect();
    return s;
  }

  async ready(): Promise<boolean> {
    try {
      const res = await exchange(`${this.base}/readyz`, { method: 'GET', headers: {}, timeoutMs: this.o.timeoutMs ?? 5000, agent: this.http });
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }
}

/** The earlier name of Swarm. */
export { Swarm as SwarmClient };
