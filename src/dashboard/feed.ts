// The live feed: the caller's history (channel traffic and its own messages) polled with `since`,
// newest first, at most FEED_MAX items kept in the page; filters hide items, search asks the hub.
import type { WireMessage } from '../api/schemas.js';
import { api } from './api.js';
import { byId, el, fill, time } from './dom.js';

/** Most messages the feed keeps in the page; older ones are dropped as new ones come. */
export const FEED_MAX = 200;
// The API's vocabulary (src/domain/message.ts); the types check each value is one of the wire's.
const TYPES = ['text', 'report', 'review', 'deployment', 'status', 'task', 'onboarding', 'system'] satisfies WireMessage['type'][];
const PRIORITIES = ['urgent', 'high', 'regular', 'low'] satisfies WireMessage['priority'][];

export interface Filters {
  agent: string;
  channel: string;
  type: string;
  priority: string;
}

function matches(m: WireMessage, f: Filters): boolean {
  if (f.agent !== '' && m.from !== f.agent && !m.to.includes(f.agent)) return false;
  if (f.channel !== '' && !m.to.includes(f.channel)) return false;
  if (f.type !== '' && m.type !== f.type) return false;
  if (f.priority !== '' && m.priority !== f.priority) return false;
  return true;
}

function item(m: WireMessage): HTMLLIElement {
  const li = el('li', { 'data-id': m.id, 'data-from': m.from, 'data-to': m.to.join(' '), 'data-type': m.type, 'data-priority': m.priority });
  li.append(
    el('div', { class: 'meta' }, `${time(m.created_at)} · ${m.from} → ${m.to.join(', ')} · ${m.type} · ${m.priority}`),
    el('div', { class: 'body' }, m.subject === '' ? m.body.slice(0, 500) : `${m.subject}: ${m.body.slice(0, 500)}`),
  );
  return li;
}

export class Feed {
  private readonly list = byId<HTMLOListElement>('feed-list');
  private readonly seen = new Set<string>();
  private since: string | undefined;

  constructor() {
    for (const [id, values] of [['f-type', TYPES], ['f-priority', PRIORITIES]] as const) {
      const select = byId<HTMLSelectElement>(id);
      for (const v of values) select.append(el('option', { value: v }, v));
    }
    byId('filters').addEventListener('input', () => this.applyFilters());
    byId<HTMLFormElement>('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.search(byId<HTMLInputElement>('search').value.trim());
    });
  }

  filters(): Filters {
    const v = (id: string): string => byId<HTMLInputElement | HTMLSelectElement>(id).value.trim();
    return { agent: v('f-agent'), channel: v('f-channel'), type: v('f-type'), priority: v('f-priority') };
  }

  setChannels(names: string[]): void {
    const select = byId<HTMLSelectElement>('f-channel');
    const have = new Set([...select.options].map((o) => o.value));
    for (const n of names) if (!have.has(`#${n}`)) select.append(el('option', { value: `#${n}` }, `#${n}`));
  }

  /** Fetches what is new since the last poll and puts it on top, oldest of the batch first. */
  async poll(): Promise<void> {
    const q = new URLSearchParams({ limit: '100' });
    if (this.since !== undefined) q.set('since', this.since);
    const { messages } = await api<{ messages: WireMessage[] }>(`/history?${q}`);
    const fresh = messages.filter((m) => !this.seen.has(m.id)).sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1));
    const f = this.filters();
    for (const m of fresh) {
      this.seen.add(m.id);
      const li = item(m);
      li.hidden = !matches(m, f);
      this.list.prepend(li);
      if (this.since === undefined || m.created_at > this.since) this.since = m.created_at;
    }
    while (this.list.children.length > FEED_MAX) {
      const last = this.list.lastElementChild as HTMLElement;
      this.seen.delete(last.dataset.id ?? '');
      last.remove();
    }
  }

  private applyFilters(): void {
    const f = this.filters();
    for (const li of this.list.children as HTMLCollectionOf<HTMLLIElement>) {
      const d = li.dataset;
      li.hidden = !matches({ from: d.from ?? '', to: (d.to ?? '').split(' '), type: d.type, priority: d.priority } as WireMessage, f);
    }
  }

  private async search(text: string): Promise<void> {
    const out = byId<HTMLOListElement>('search-results');
    if (text === '') {
      out.hidden = true;
      return;
    }
    const { messages } = await api<{ messages: WireMessage[] }>(`/history?${new URLSearchParams({ search: text, limit: '50' })}`);
    fill(out, messages.length === 0 ? [el('li', {}, `nothing matches “${text}”`)] : messages.map(item));
    out.hidden = false;
  }
}
