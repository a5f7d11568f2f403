// Message templates of the SQLite store (onboarding, wrap-up, surveys: hub/templates.ts): one row
// per name, replaced whole on each change.
import type { Store, Template } from '../store.js';
import type { Connection } from './connection.js';

export class Templates implements Pick<Store, 'getTemplate' | 'listTemplates' | 'setTemplate'> {
  constructor(private readonly conn: Connection) {}

  async getTemplate(name: string): Promise<Template | null> {
    this.conn.live();
    const row = this.conn.stmt('getTemplate').get(name) as { name: string; body: string; updated_by: string; updated_at: number } | undefined;
    return row === undefined ? null : { name: row.name, body: row.body, updatedBy: row.updated_by, updatedAt: row.updated_at };
  }

  async listTemplates(): Promise<Template[]> {
    this.conn.live();
    const rows = this.conn.stmt('listTemplates').all() as { name: string; body: string; updated_by: string; updated_at: number }[];
    return rows.map((r) => ({ name: r.name, body: r.body, updatedBy: r.updated_by, updatedAt: r.updated_at }));
  }

  async setTemplate(t: Template): Promise<void> {
    this.conn.live();
    this.conn.stmt('setTemplate').run({ name: t.name, body: t.body, updated_by: t.updatedBy, updated_at: t.updatedAt });
  }
}
