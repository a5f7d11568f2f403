// Small DOM helpers: elements are built with textContent, never innerHTML (reports go through
// markdown.ts's sanitiser instead).
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`no #${id} in the page`);
  return e as T;
}

/** "3 min" from an ISO time to now. */
export function age(iso: string | null, now = Date.now()): string {
  if (iso === null) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString();
}

/** Replaces the children of `parent` with `children`. */
export function fill(parent: Element, children: Node[]): void {
  parent.replaceChildren(...children);
}
