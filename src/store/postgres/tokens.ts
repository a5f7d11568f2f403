// Tokens of the PostgreSQL store: issued, looked up by hash (through the directory cache, which a
// creation or revocation clears), listed and revoked.
import type pg from 'pg';
import { type TokenMatchRow, type TokenRow, toTokenInfo, toTokenMatch } from '../rows.js';
import type { Store, TokenInfo, TokenMatch, TokenRecord } from '../store.js';
import type { Connection } from './connection.js';

export class Tokens implements Pick<Store, 'createToken' | 'findToken' | 'hasLiveToken' | 'getToken' | 'listTokens' | 'revokeToken' | 'touchToken'> {
  constructor(private readonly conn: Connection) {}

  async createToken(t: TokenRecord): Promise<void> {
    this.conn.live();
    const scopes = t.scopes === null || t.scopes === undefined ? null : JSON.stringify(t.scopes);
    await this.conn.q('insertToken', [t.id, t.agentId, t.hash, t.label, t.createdAt, t.expiresAt ?? null, scopes]);
    this.conn.directory.clear();
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

  async revokeToken(id: string, at: number): Promise<{ agentId: string } | null> {
    this.conn.live();
    const [row] = await this.conn.rows<{ agent_id: string }>('revokeToken', [id, at]);
    this.conn.directory.clear();
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
