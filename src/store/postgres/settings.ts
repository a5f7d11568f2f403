// Shared settings of the PostgreSQL store: a versioned history, one row per change. Writers take a
// table lock so that versions follow commit order across processes (readers are not blocked).
import type { AuditOf, SettingChange, Store } from '../store.js';
import type { Audit } from './audit.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

/** A settings value as stored (JSON text; NULL: unset). */
function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

export class Settings implements Pick<Store, 'currentSettings' | 'settingsAt' | 'recordSettings' | 'settingsHistory' | 'settingsVersion'> {
  constructor(
    private readonly conn: Connection,
    private readonly audit: Audit,
  ) {}

  async currentSettings(): Promise<{ version: number; values: Map<string, unknown> }> {
    this.conn.live();
    const rows = await this.conn.rows<{ key: string; value: string | null; top: number }>('currentSettings', []);
    return { version: rows[0]?.top ?? 0, values: new Map(rows.map((r) => [r.key, parseJson(r.value)])) };
  }

  async settingsAt(version: number): Promise<Map<string, unknown>> {
    this.conn.live();
    const rows = await this.conn.rows<{ key: string; value: string | null }>('settingsAt', [version]);
    return new Map(rows.map((r) => [r.key, parseJson(r.value)]));
  }

  async recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number, audit?: AuditOf<SettingChange[]>): Promise<SettingChange[]> {
    this.conn.live();
    const bad = refuseNul('the setting', author, note, ...changes.map((c) => c.key));
    if (bad !== null) throw bad;
    if (changes.length === 0) {
      if (audit !== undefined) await this.conn.tx((c) => this.audit.appendIn(c, audit([])));
      return [];
    }
    return this.conn.tx(async (c) => {
      // Writers queue here, so that versions follow commit order and `previous` is what the
      // version before left (readers go on meanwhile).
      await this.conn.q('lockSettings', [], c);
      const rows = await this.conn.rows<{ key: string; value: string | null; top: number }>('currentSettings', [], c);
      const current = new Map(rows.map((r) => [r.key, r.value]));
      let version = rows[0]?.top ?? 0;
      const recorded = changes.map((ch) => {
        const value = ch.value === null ? null : JSON.stringify(ch.value);
        const previous = current.get(ch.key) ?? null;
        current.set(ch.key, value);
        version += 1;
        return { version, key: ch.key, value, previous };
      });
      await this.conn.q(
        'insertSettings',
        [recorded.map((r) => r.version), recorded.map((r) => r.key), recorded.map((r) => r.value), recorded.map((r) => r.previous), author, note, at],
        c,
      );
      const out = recorded.map((r, i): SettingChange => ({
        version: r.version,
        key: r.key,
        value: changes[i]?.value,
        previous: parseJson(r.previous),
        author,
        note,
        createdAt: at,
      }));
      if (audit !== undefined) await this.audit.appendIn(c, audit(out));
      return out;
    });
  }

  async settingsHistory(limit: number): Promise<SettingChange[]> {
    this.conn.live();
    const rows = await this.conn.rows<{ version: number; key: string; value: string | null; previous: string | null; author: string; note: string; created_at: number }>(
      'settingsHistory',
      [limit],
    );
    return rows.map((r) => ({
      version: r.version,
      key: r.key,
      value: parseJson(r.value),
      previous: parseJson(r.previous),
      author: r.author,
      note: r.note,
      createdAt: r.created_at,
    }));
  }

  async settingsVersion(): Promise<number> {
    this.conn.live();
    return (await this.conn.rows<{ n: number }>('settingsVersion', []))[0]?.n ?? 0;
  }
}
