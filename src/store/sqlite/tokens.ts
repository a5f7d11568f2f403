// API tokens of the SQLite store, stored by hash, with a bounded read cache of hash -> agent: every
// authenticated request asks it. A revoked token must never be answered from the cache.
import { type TokenMatchRow, type TokenRow, toTokenInfo, toTokenMatch } from '../rows.js';
import type { Store, TokenInfo, TokenMatch, TokenRecord } from '../store.js';
import { CACHE_MAX, type Connection } from './connection.js';
import type { WriteContext } from './writes.js';

export class Tokens implements Pick<Store, 'createToken' | 'findToken' | 'hasLiveToken' | 'getToken' | 'listTokens' | 'revokeToken' | 'touchToken'> {
  private readonly tokens = new Map<string, TokenMatch | null>();

  constructor(private readonly conn: Connection) {}

  /** Agents were written (agents.ts): any cached answer, an unknown token's too, may be stale. */
  forgetAll(): void {
    this.tokens.clear();
  }

  async createToken(t: TokenRecord): Promise<void> {
    this.conn.live();
    this.conn.stmt('insertToken').run({
      id: t.id,
      agent_id: t.agentId,
      hash: t.hash,
      label: t.label,
      created_at: t.createdAt,
      expires_at: t.expiresAt ?? null,
      scopes: t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes),
    });
    this.tokens.delete(t.hash.toString('hex'));
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

  async revokeToken(id: string, at: number): Promise<{ agentId: string } | null> {
    this.conn.live();
    const row = this.conn.stmt('revokeToken').get({ id, at }) as { agent_id: string; hash: Buffer } | undefined;
    // The cache must not answer for a revoked token, not even once.
    this.tokens.clear();
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
