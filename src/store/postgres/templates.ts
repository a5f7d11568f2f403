// Message templates of the PostgreSQL store.
import type { Store, Template } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

interface TemplateRow {
  name: string;
  body: string;
  updated_by: string;
  updated_at: number;
}

function toTemplate(r: TemplateRow): Template {
  return { name: r.name, body: r.body, updatedBy: r.updated_by, updatedAt: r.updated_at };
}

export class Templates implements Pick<Store, 'getTemplate' | 'listTemplates' | 'setTemplate'> {
  constructor(private readonly conn: Connection) {}

  async getTemplate(name: string): Promise<Template | null> {
    this.conn.live();
    if (name.includes('\0')) return null;
    const [row] = await this.conn.rows<TemplateRow>('getTemplate', [name]);
    return row === undefined ? null : toTemplate(row);
  }

  async listTemplates(): Promise<Template[]> {
    this.conn.live();
    return (await this.conn.rows<TemplateRow>('listTemplates', [])).map(toTemplate);
  }

  async setTemplate(t: Template): Promise<void> {
    this.conn.live();
    const bad = refuseNul('the template', t.name, t.body, t.updatedBy);
    if (bad !== null) throw bad;
    await this.conn.q('setTemplate', [t.name, t.body, t.updatedBy, t.updatedAt]);
  }
}
