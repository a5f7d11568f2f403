// Shared settings of the SQLite store: a versioned log of changes, one version per key changed,
// each with its previous value, author and note; values are stored as JSON text.
import type { AuditOf, SettingChange, Store } from '../store.js';
import type { Audit } from './audit.js';
import type { Connection } from './connection.js';

export class Settings implements Pick<Store, 'currentSettings' | 'settingsAt' | 'recordSettings' | 'settingsHistory' | 'settingsVersion'> {
  constructor(
    private readonly conn: Connection,
    private readonly audit: Audit,
  ) {}

  async currentSettings(): Promise<{ version: number; values: Map<string, unknown> }> {
    this.conn.live();
    const rows = this.conn.stmt('currentSettings').all() as { key: string; value: string | null; version: number }[];
    return {
      version: (this.conn.stmt('settingsVersion').get() as { n: number }).n,
      values: new Map(rows.map((r) => [r.key, r.value === null ? null : (JSON.parse(r.value) as unknown)])),
    };
  }

  async settingsAt(version: number): Promise<Map<string, unknown>> {
    this.conn.live();
    const rows = this.conn.stmt('settingsAt').all({ version }) as { key: string; value: string | null }[];
    return new Map(rows.map((r) => [r.key, r.value === null ? null : (JSON.parse(r.value) as unknown)]));
  }

  async recordSettings(changes: { key: string; value: unknown }[], author: string, note: string, at: number, audit?: AuditOf<SettingChange[]>): Promise<SettingChange[]> {
    this.conn.live();
    return this.conn.db.transaction(() => {
      const current = new Map((this.conn.stmt('currentSettings').all() as { key: string; value: string | null }[]).map((r) => [r.key, r.value]));
      const recorded = changes.map((c): SettingChange => {
        const value = c.value === null ? null : JSON.stringify(c.value);
        const previous = current.get(c.key) ?? null;
        const version = Number(this.conn.stmt('insertSetting').run({ key: c.key, value, previous, author, note, created_at: at }).lastInsertRowid);
        current.set(c.key, value);
        return { version, key: c.key, value: c.value, previous: previous === null ? null : (JSON.parse(previous) as unknown), author, note, createdAt: at };
      });
      if (audit !== undefined) this.audit.appendIn(audit(recorded));
      return recorded;
    }).immediate();
  }

  async settingsHistory(limit: number): Promise<SettingChange[]> {
    this.conn.live();
    const rows = this.conn.stmt('settingsHistory').all({ limit }) as { version: number; key: string; value: string | null; previous: string | null; author: string; note: string; created_at: number }[];
    return rows.map((r) => ({
      version: r.version,
      key: r.key,
      value: r.value === null ? null : (JSON.parse(r.value) as unknown),
      previous: r.previous === null ? null : (JSON.parse(r.previous) as unknown),
      author: r.author,
      note: r.note,
      createdAt: r.created_at,
    }));
  }

  async settingsVersion(): Promise<number> {
    this.conn.live();
    return (this.conn.stmt('settingsVersion').get() as { n: number }).n;
  }
}
