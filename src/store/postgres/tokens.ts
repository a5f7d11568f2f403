// Tokens of the PostgreSQL store: issued, looked up by hash (through the directory cache, which a
// creation or revocation clears), listed, revoked and rotated. Writes carry their audit records in
// their own transaction (store.ts AuditOf).
import type pg from 'pg';
import { type TokenMatchRow, type TokenRow, toTokenInfo, toTokenMatch } from '../rows.js';
import type { AuditOf, Store, TokenInfo, TokenMatch, TokenRecord } from '../store.js';
import type { Audit } from './audit.js';
import type { Connection } from './connection.js';

export class Tokens implements Pick<Store, 'createToken' | 'findToken' | 'hasLiveToken' | 'getToken' | 'listTokens' | 'revokeToken' | 'rotateToken' | 'touchToken'> {
  constructor(
    private readonly conn: Connection,
    private readonly audit: Audit,
  ) {}

  async createToken(t: TokenRecord, audit?: AuditOf<{ agentId: string }>): Promise<void> {
    this.conn.live();
    try {
      await this.conn.tx(async (c) => {
        await this.insert(t, c);
        if (audit !== undefined) await this.audit.appendIn(c, audit({ agentId: t.agentId }));
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  /** The insert alone, on the caller's transaction. */
  async insert(t: TokenRecord, c: pg.PoolClient): Promise<void> {
    const scopes = t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes);
    await this.conn.q('insertToken', [t.id, t.agentId, t.hash, t.label, t.createdAt, t.expiresAt ?? null, scopes], c);
  }

  async findToken(hash: Buffer): Promise<TokenMatch | null> {
    this.conn.live();
    const cached = this.conn.directory.token(hash);
    if (cached !== undefined) return cached;
    const mark = this.conn.directory.mark();
    const [row] = await this.conn.rows<TokenMatchRow & pg.QueryResultRow>('findToken', [hash]);
    const match = row === undefined ? null : toTokenMatch(row);
    this.conn.directory.keepToken(hash, match, mark.epoch);
    return match;
  }

  async getToken(id: string): Promise<TokenInfo | null> {
    this.conn.live();
    const [row] = await this.conn.rows<TokenRow & pg.QueryResultRow>('getToken', [id]);
    return row === undefined ? null : toTokenInfo(row);
  }

  async listTokens(agentId: string | null): Promise<TokenInfo[]> {
    this.conn.live();
    return (await this.conn.rows<TokenRow & pg.QueryResultRow>('listTokens', [agentId])).map(toTokenInfo);
  }

  async revokeToken(id: string, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    this.conn.live();
    try {
      return await this.conn.tx(async (c) => {
        const r = await this.revoke(id, at, c);
        if (r !== null && audit !== undefined) await this.audit.appendIn(c, audit(r));
        return r;
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  async rotateToken(id: string, next: TokenRecord, at: number, audit?: AuditOf<{ agentId: string }>): Promise<{ agentId: string } | null> {
    this.conn.live();
    try {
      // The revocation locks the old token's row to the commit: a concurrent rotation waits for
      // it, then finds the token revoked (revoked_at IS NULL is checked again) and stores nothing.
      return await this.conn.tx(async (c) => {
        const r = await this.revoke(id, at, c);
        if (r === null) return null;
        await this.insert(next, c);
        if (audit !== undefined) await this.audit.appendIn(c, audit(r));
        return r;
      });
    } finally {
      this.conn.directory.clear();
    }
  }

  /** Revokes a live token on the caller's transaction; null when unknown or already revoked. */
  async revoke(id: string, at: number, c: pg.PoolClient): Promise<{ agentId: string } | null> {
    const [row] = await this.conn.rows<{ agent_id: string }>('revokeToken', [id, at], c);
    return row === undefined ? null : { agentId: row.agent_id };
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.conn.live();
    await this.conn.q('touchToken', [id, at]);
  }

  async hasLiveToken(agentId: string): Promise<boolean> {
    this.conn.live();
    return (await this.conn.q('hasLiveToken', [agentId])).rowCount !== 0;
  }
}
