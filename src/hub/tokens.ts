// Token management (admins): issue a token for an agent with an optional expiry and scopes, list
// tokens (never their secrets), revoke, rotate. A token is shown once, when it is created; the hub
// keeps only its hash. Revoking ends every stream opened with the token, in every hub process
// (onRevoked publishes it). Each change is stored with its audit records in one transaction.
import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.js';
import { allows, isOperation, OPERATION_NAMES } from '../security/permissions.js';
import { hashToken, newToken } from '../security/tokens.js';
import type { NewAuditRecord } from '../domain/audit.js';
import type { Store, TokenInfo, TokenRecord } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { by, entry } from './audit.js';

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
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    /** Tokens just revoked: streams opened with them end, here and in other processes. */
    private readonly onRevoked: (tokenIds: string[]) => void,
  ) {}

  async create(actor: Actor, r: TokenRequest): Promise<IssuedToken> {
    authorize(actor, 'token.manage', 'manage tokens');
    const issued = await this.prepare(actor, r);
    const { info } = issued;
    await this.store.createToken(issued.record, () => [this.created(actor, info)]);
    return { token: issued.token, info };
  }

  async list(actor: Actor, agent: string | undefined): Promise<TokenInfo[]> {
    authorize(actor, 'token.manage', 'manage tokens');
    return this.store.listTokens(agent ?? null);
  }

  async revoke(actor: Actor, id: string): Promise<TokenInfo> {
    authorize(actor, 'token.manage', 'manage tokens');
    const t = await this.live(id);
    const at = this.now();
    const b = by(actor);
    const r = await this.store.revokeToken(id, at, () => [entry({ ...b, action: 'token.revoke', target: t.agentId, detail: { ...b.detail, token: id } }, at)]);
    if (r === null) throw this.missing(id);
    this.onRevoked([id]);
    return { ...t, revokedAt: at };
  }

  /**
   * A new token for the same agent, label and scopes, and the old one revoked, in one transaction:
   * of two rotations of one token at once, one succeeds and the other finds no live token. The
   * new one lives as long as the old one was given (from now), unless `expiresInSeconds` says
   * otherwise.
   */
  async rotate(actor: Actor, id: string, expiresInSeconds?: number): Promise<IssuedToken & { revoked: string }> {
    authorize(actor, 'token.manage', 'manage tokens');
    const old = await this.live(id);
    const lifetime = expiresInSeconds ?? (old.expiresAt === null ? undefined : Math.max(1, Math.round((old.expiresAt - old.createdAt) / 1000)));
    const next = await this.prepare(actor, { agent: old.agentId, expiresInSeconds: lifetime, scopes: old.scopes ?? undefined, label: old.label });
    const { info } = next;
    const b = by(actor);
    const r = await this.store.rotateToken(id, next.record, info.createdAt, () => [
      this.created(actor, info, { rotated_from: id }),
      entry({ ...b, action: 'token.revoke', target: old.agentId, detail: { ...b.detail, token: id, rotated_to: info.id } }, info.createdAt),
    ]);
    if (r === null) throw this.missing(id);
    this.onRevoked([id]);
    return { token: next.token, info, revoked: id };
  }

  /** Checks a request and makes the token: its secret, what the store keeps, what is shown. */
  private async prepare(actor: Actor, r: TokenRequest): Promise<IssuedToken & { record: TokenRecord }> {
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
    return {
      token,
      record: { id, agentId: agent.id, hash: hashToken(token), label, createdAt: now, expiresAt, scopes },
      info: { id, agentId: agent.id, label, createdAt: now, expiresAt, scopes, lastUsedAt: null, revokedAt: null },
    };
  }

  private created(actor: Actor, info: TokenInfo, extra: Record<string, unknown> = {}): NewAuditRecord {
    const b = by(actor);
    return entry({ ...b, action: 'token.create', target: info.agentId, detail: { ...b.detail, token: info.id, label: info.label, expires_at: info.expiresAt, scopes: info.scopes, ...extra } }, info.createdAt);
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
