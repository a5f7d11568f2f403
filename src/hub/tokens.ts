// Token management (admins): issue a token for an agent with an optional expiry and scopes, list
// tokens (never their secrets), revoke, rotate. A token is shown once, when it is created; the hub
// keeps only its hash. Revoking ends every stream opened with the token, in every hub process
// (onRevoked publishes it).
import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.js';
import { allows, isOperation, OPERATION_NAMES } from '../security/permissions.js';
import { hashToken, newToken } from '../security/tokens.js';
import type { Store, TokenInfo } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AuditSink, by, noAudit } from './audit.js';

export interface TokenRequest {
  agent: string;
  /** Lifetime from now; absent: the token does not expire. */
  expiresInSeconds?: number | undefined;
  /** Operations the token is limited to; absent: whatever the agent's role allows. */
  scopes?: string[] | undefined;
  label?: string | undefined;
}

export interface IssuedToken {
  /** The secret: returned once, never stored. */
  token: string;
  info: TokenInfo;
}

/** Longest lifetime a token may be given: ten years. */
export const MAX_TOKEN_SECONDS = 10 * 365 * 86400;

export class Tokens {
  /** Tokens just revoked: streams opened with them end, here and in other processes. */
  onRevoked: (tokenIds: string[]) => void = () => undefined;
  /** Set by the hub: token changes are security-relevant acts. */
  audit: AuditSink = noAudit;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async create(actor: Actor, r: TokenRequest): Promise<IssuedToken> {
    authorize(actor, 'token.manage', 'manage tokens');
    const agent = await this.store.getAgent(r.agent);
    if (agent === null) throw new HubError('agent_not_found', `unknown agent ${r.agent}`, { details: { agent: r.agent } });
    let scopes: string[] | null = null;
    if (r.scopes !== undefined) {
      scopes = [...new Set(r.scopes)];
      if (scopes.length === 0) throw new HubError('validation_failed', 'scopes, when given, name at least one operation');
      for (const s of scopes) {
        if (!isOperation(s)) throw new HubError('validation_failed', `unknown scope ${s} (operations: ${OPERATION_NAMES.join(', ')})`, { details: { scope: s } });
        if (!allows(agent.role, s)) throw new HubError('validation_failed', `scope ${s} is not allowed to role ${agent.role} (${agent.id}) anyway`, { details: { scope: s } });
      }
    }
    if (r.expiresInSeconds !== undefined && !(Number.isInteger(r.expiresInSeconds) && r.expiresInSeconds > 0 && r.expiresInSeconds <= MAX_TOKEN_SECONDS)) {
      throw new HubError('validation_failed', `expires_in_seconds must be a whole number from 1 to ${MAX_TOKEN_SECONDS}`);
    }
    const now = this.now();
    const token = newToken();
    const id = randomUUID();
    const expiresAt = r.expiresInSeconds === undefined ? null : now + r.expiresInSeconds * 1000;
    const label = r.label ?? `issued by ${actor.principal.id}`;
    await this.store.createToken({ id, agentId: agent.id, hash: hashToken(token), label, createdAt: now, expiresAt, scopes });
    const b = by(actor);
    await this.audit.record({ ...b, action: 'token.create', target: agent.id, detail: { ...b.detail, token: id, label, expires_at: expiresAt, scopes } });
    return { token, info: { id, agentId: agent.id, label, createdAt: now, expiresAt, scopes, lastUsedAt: null, revokedAt: null } };
  }

  async list(actor: Actor, agent: string | undefined): Promise<TokenInfo[]> {
    authorize(actor, 'token.manage', 'manage tokens');
    return this.store.listTokens(agent ?? null);
  }

  async revoke(actor: Actor, id: string): Promise<TokenInfo> {
    authorize(actor, 'token.manage', 'manage tokens');
    const t = await this.live(id);
    const r = await this.store.revokeToken(id, this.now());
    if (r === null) throw this.missing(id);
    this.onRevoked([id]);
    const b = by(actor);
    await this.audit.record({ ...b, action: 'token.revoke', target: t.agentId, detail: { ...b.detail, token: id } });
    return { ...t, revokedAt: this.now() };
  }

  /**
   * A new token for the same agent, label and scopes, and the old one revoked. The new one lives
   * as long as the old one was given (from now), unless `expiresInSeconds` says otherwise.
   */
  async rotate(actor: Actor, id: string, expiresInSeconds?: number): Promise<IssuedToken & { revoked: string }> {
    authorize(actor, 'token.manage', 'manage tokens');
    const old = await this.live(id);
    const lifetime = expiresInSeconds ?? (old.expiresAt === null ? undefined : Math.max(1, Math.round((old.expiresAt - old.createdAt) / 1000)));
    const issued = await this.create(actor, { agent: old.agentId, expiresInSeconds: lifetime, scopes: old.scopes ?? undefined, label: old.label });
    // null: revoked by someone else meanwhile; the rotation stands, the old token is gone either way.
    await this.store.revokeToken(id, this.now());
    this.onRevoked([id]);
    const b = by(actor);
    await this.audit.record({ ...b, action: 'token.revoke', target: old.agentId, detail: { ...b.detail, token: id, rotated_to: issued.info.id } });
    return { ...issued, revoked: id };
  }

  private async live(id: string): Promise<TokenInfo> {
    const t = await this.store.getToken(id);
    if (t === null || t.revokedAt !== null || (await this.store.getAgent(t.agentId)) === null) throw this.missing(id);
    return t;
  }

  private missing(id: string): HubError {
    return new HubError('token_not_found', `no live token ${id} (see \`swarm token list\`)`, { details: { token: id } });
  }
}
