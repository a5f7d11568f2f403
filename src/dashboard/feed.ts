// The live feed: the caller's history (channel traffic and its own messages) polled with `since`,
// newest first, at most FEED_MAX items kept in the page; filters hide items, search asks the hub.
import type { WireMessage } from '../api/schemas.js';
import { api } from './api.js';
import { byId, el, fill, time } from './dom.js';

/** Most messages the feed keeps in the page; older ones are dropped as new ones come. */
export const FEED_MAX = 200;
/**
 * Each poll asks again for the last few seconds: a message is stamped before it is committed, so
 * one stamped just before the newest seen may be committed just after it. Ids already shown are
 * skipped (the last SEEN_MAX of them are remembered).
 */
const LOOKBACK_MS = 5000;
const SEEN_MAX = 2000;

/** Newest first: by time, then by id (ULIDs sort by time too). */
function newer(a: { created_at: string; id: string }, b: { created_at: string; id: string }): boolean {
  return a.created_at === b.created_at ? a.id > b.id : a.created_at > b.created_at;
}
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
  const li = el('li', { 'data-id': m.id, 'data-created': m.created_at, 'data-from': m.from, 'data-to': m.to.join(' '), 'data-type': m.type, 'data-priority': m.priority });
  li.append(
    el('div', { class: 'meta' }, `${time(m.created_at)} · ${m.from} → ${m.to.join(', ')} · ${m.type} · ${m.priority}`),
    el('div', { class: 'body' }, m.subject === '' ? m.body.slice(0, 500) : `${m.subject}: ${m.body.slice(0, 500)}`),
  );
  return li;
}

export class Feed {
  private readonly list = byId<HTMLOListElement>('feed-list');
  private readonly seen = new Set<string>();
  private newest: string | undefined;

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

  /** Fetches what is new since the last poll and puts each message in its place, newest on top. */
  async poll(): Promise<void> {
    const q = new URLSearchParams({ limit: '200' });
    if (this.newest !== undefined) q.set('since', new Date(Date.parse(this.newest) - LOOKBACK_MS).toISOString());
    const { messages } = await api<{ messages: WireMessage[] }>(`/history?${q}`);
    const f = this.filters();
    for (const m of messages.filter((x) => !this.seen.has(x.id)).reverse()) {
      this.remember(m.id);
      const li = item(m);
      li.hidden = !matches(m, f);
      // Almost always on top; a late commit goes below the newer ones already shown.
      let at = this.list.firstElementChild as HTMLElement | null;
      while (at !== null && !newer(m, { created_at: at.dataset.created ?? '', id: at.dataset.id ?? '' })) at = at.nextElementSibling as HTMLElement | null;
      this.list.insertBefore(li, at);
      if (this.newest === undefined || m.created_at > this.newest) this.newest = m.created_at;
    }
    while (this.list.children.length > FEED_MAX) this.list.lastElementChild?.remove();
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value as string);
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
