// Authentication and acting-as: turns a bearer token (and an optional --as agent) into an Actor.
// Tokens are looked up by hash; an expired token is refused saying so; failed attempts are
// throttled per source address (security/throttle.ts), charged to the address's request limit,
// and only then tallied for the audit trail (auth-failures.ts: one record per address a minute).
import type { Agent } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { mayManage } from '../security/permissions.js';
import { AuthThrottle, type ThrottleLimits } from '../security/throttle.js';
import { hashToken, looksLikeToken } from '../security/tokens.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AuditSink, noAudit } from './audit.js';
import { AuthFailures } from './auth-failures.js';

/** Where a request came from: for throttling and the audit trail. */
export interface RequestSource {
  address?: string | undefined;
  requestId?: string | undefined;
  /**
   * Charges a request that carries no valid token to its address's limit (limits.addressRate),
   * throwing `rate_limited` beyond it. Called before a failure is tallied, so that requests refused
   * 429 cost nothing more.
   */
  charge?: (() => void) | undefined;
}

/** A token's last use is written at most this often (it is a hint, not a log). */
const TOUCH_EVERY_MS = 60_000;
const MAX_TOUCHED = 10_000;

export class Auth {
  readonly throttle: AuthThrottle;
  /** Failed authentications, tallied per address and written to the audit trail once a minute. */
  readonly failures: AuthFailures;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    limits: () => ThrottleLimits = () => ({ limit: 10, windowMs: 60_000, lockoutMs: 60_000 }),
    private readonly onError: (e: unknown) => void = () => undefined,
    /** Refusals (failed authentications, a denied --as) and --as calls are recorded here. */
    private readonly audit: AuditSink = noAudit,
  ) {
    this.throttle = new AuthThrottle(limits);
    this.failures = new AuthFailures({ record: (e) => this.audit.record(e) }, now);
  }

  /** A locked-out address is refused with `rate_limited` before its token is even looked at. */
  async authenticate(token: string | undefined, as: string | undefined, from: RequestSource = {}): Promise<Actor> {
    const now = this.now();
    const source = from.address ?? '';
    const wait = this.throttle.blockedFor(source, now);
    if (wait > 0) {
      throw new HubError('rate_limited', `too many failed authentications from this address: try again in ${Math.ceil(wait / 1000)} s`, {
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      });
    }
    if (token === undefined || token === '') {
      throw this.refused(from, 'missing token', token, new HubError('unauthorized', 'missing bearer token: send `Authorization: Bearer <token>` (CLI: --token or SWARM_TOKEN)'));
    }
    let actor: Actor;
    try {
      actor = { ...(await this.identify(token, now)), requestId: from.requestId };
    } catch (e) {
      if (e instanceof HubError && e.code === 'unauthorized') {
        this.throttle.failed(source, now);
        throw this.refused(from, e.message, token, e);
      }
      throw e;
    }
    if (as === undefined || as === '' || as === actor.principal.id) return actor;
    try {
      return { ...actor, self: await this.actAs(actor, as) };
    } catch (e) {
      await this.audit.record({ actor: actor.principal.id, action: 'act.as', target: as, requestId: from.requestId, outcome: 'denied', detail: { reason: (e as HubError).code } });
      throw e;
    }
  }

  /** An Authorization header that is not `Bearer <token>`: a failed attempt too. Returns the error to throw. */
  malformed(from: RequestSource): HubError {
    this.throttle.failed(from.address ?? '', this.now());
    return this.refused(from, 'malformed Authorization header', undefined, new HubError('unauthorized', 'malformed Authorization header: expected `Bearer <token>`'));
  }

  /** Writes the failures tallied so far (at shutdown) and schedules nothing more. */
  stop(): Promise<void> {
    return this.failures.stop();
  }

  /**
   * A failed authentication: charged to its address first (which throws `rate_limited` beyond the
   * limit: then nothing is tallied), then tallied for the audit trail. Returns the error to throw.
   */
  private refused(from: RequestSource, reason: string, token: string | undefined, e: HubError): HubError {
    from.charge?.();
    // A fingerprint ties repeated attempts with one token together without keeping the token.
    const fingerprint = token !== undefined && looksLikeToken(token) ? hashToken(token).toString('hex').slice(0, 16) : undefined;
    this.failures.note(from.address ?? '', reason, fingerprint);
    return e;
  }

  private async identify(token: string, now: number): Promise<Actor> {
    const found = looksLikeToken(token) ? await this.store.findToken(hashToken(token)) : null;
    if (found === null) throw new HubError('unauthorized', 'invalid or revoked token');
    if (found.expiresAt !== null && found.expiresAt <= now) throw new HubError('unauthorized', 'token expired');
    const principal = await this.store.getAgent(found.agentId);
    if (principal === null) throw new HubError('unauthorized', 'invalid or revoked token');
    this.touch(found.tokenId, now);
    return { principal, self: principal, tokenId: found.tokenId, scopes: found.scopes, expiresAt: found.expiresAt };
  }

  private touch(tokenId: string, now: number): void {
    const last = this.touched.get(tokenId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size >= MAX_TOUCHED) this.touched.clear();
    this.touched.set(tokenId, now);
    void this.store.touchToken(tokenId, now).catch((e: unknown) => this.onError(e));
  }

  private async actAs(actor: Actor, as: string): Promise<Agent> {
    const { principal } = actor;
    authorize(actor, 'act.as', `act as ${as}`);
    const target = await this.store.getAgent(as);
    if (target === null) throw new HubError('agent_not_found', `cannot act as ${as}: no such agent`, { details: { agent: as } });
    if (!mayManage(principal.role, target.role)) {
      throw new HubError('forbidden', `${principal.id} (role ${principal.role}) may not act as ${as} (role ${target.role})`, {
        details: { operation: 'act.as' },
      });
    }
    return target;
  }
}
