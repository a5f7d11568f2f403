// API tokens of the SQLite store, stored by hash, with a bounded read cache of hash -> agent: every
// authenticated request asks it. A revoked token must never be answered from the cache. Issuing,
// revoking and rotating write their audit records in their own transaction (store.ts AuditOf).
import { type TokenMatchRow, type TokenRow, toTokenInfo, toTokenMatch } from '../rows.js';
import type { AuditOf, Store, TokenInfo, TokenMatch, TokenRecord } from '../store.js';
import type { Audit } from './audit.js';
import { CACHE_MAX, type Connection } from './connection.js';
import type { WriteContext } from './writes.js';

export class Tokens implements Pick<Store, 'createToken' | 'findToken' | 'hasLiveToken' | 'getToken' | 'listTokens' | 'revokeToken' | 'rotateToken' | 'touchToken'> {
  private readonly tokens = new Map<string, TokenMatch | null>();

  constructor(
    private readonly conn: Connection,
    private readonly audit: Audit,
  ) {}

  /** Agents were written (agents.ts): any cached answer, an unknown token's too, may be stale. */
  forgetAll(): void {
    this.tokens.clear();
  }

  async createToken(t: TokenRecord, audit?: AuditOf<{ agentId: string }>): Promise<void> {
    this.conn.live();
    try {
      this.conn.db
        .transaction(() => {
          this.insert(t);
          if (audit !== undefined) this.audit.appendIn(audit({ agentId: t.agentId }));
        })
        .immediate();
    } finally {
      this.tokens.delete(t.hash.toString('hex'));
    }
  }

  /** The insert alone, inside the caller's transaction. */
  insert(t: TokenRecord): void {
    this.conn.stmt('insertToken').run({
      id: t.id,
      agent_id: t.agentId,
      hash: t.hash,
      label: t.label,
      created_at: t.createdAt,
      expires_at: t.expiresAt ?? null,
      scopes: t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes),
    });
  }

  async findToken(hash: Buffer): Promise<TokenMatch | null> {
    this.conn.live();
    const key = hash.toString('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached === null ? null : { ...cached, scopes: cached.scopes === null ? null : [...cached.scopes] };
    const row = this.conn.stmt('findToken').get(hash) as TokenMatchRow | undefined;
    const found = row === undefined ? null : toTokenMatch(row);
    // Bounded: a flood of random tokens must not grow memory.
    if (this.tokens.size >= CACHE_MAX) this.tokens.clear();
    this.tokens.set(key, found);
    return found;
  }

  async hasLiveToken(agentId: string): Promise<boolean> {
    this.conn.live();
    return this.conn.stmt('hasLiveToken').get(agentId) !== undefined;
  }

  async getToken(id: string): Promise<TokenInfo | null> {
    this.conn.live();
    const row = this.conn.stmt('getToken').get(id) as TokenRow | undefined;
    return row === undefined ? null : toTokenInfo(row);
  }

  async listTokens(agentId: string | null): Promise<TokenInfo[]> {
    this.conn.live();
    return (this.conn.stmt('listTokens').all({ agent_id: agentId }) as TokenRow[]).map(toTokenInfo);
  }

  async revokeToken(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    this.conn.live();
    try {
      return this.conn.db
        .transaction(() => {
          const r = this.revoke(id, at);
          if (r !== null && audit !== undefined) this.audit.appendIn(audit(r));
          return r;
        })
        .immediate();
    } finally {
      // The cache must not answer for a revoked token, not even once.
      this.tokens.clear();
    }
  }

  async rotateToken(id: string, next: TokenRecord, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    this.conn.live();
    try {
      // IMMEDIATE: the write lock is held from the revocation's check to the commit, so a second
      // rotation of the same token finds it revoked and stores nothing.
      return this.conn.db
        .transaction(() => {
          const r = this.revoke(id, at);
          if (r === null) return null;
          this.insert(next);
          if (audit !== undefined) this.audit.appendIn(audit(r));
          return r;
        })
        .immediate();
    } finally {
      this.tokens.clear();
    }
  }

  /** Revokes a live token inside the caller's transaction; null when unknown or already revoked. */
  revoke(id: string, at: number): { agentId: string } | null {
    const row = this.conn.stmt('revokeToken').get({ id, at }) as { agent_id: string; hash: Buffer } | undefined;
    return row === undefined ? null : { agentId: row.agent_id };
  }

  async touchToken(id: string, at: number): Promise<void> {
    await this.conn.write('touchToken', { id, at });
  }
}

/** Run by writes.ts on the writer thread. */
export function touchToken(c: WriteContext, a: { id: string; at: number }): null {
  c.stmt('touchToken').run(a);
  return null;
}
