// Message templates: text with {placeholders} filled per recipient. Unknown placeholders are
// refused when a template is saved (or a config value loaded), never at send time.

export const TEMPLATE_PLACEHOLDERS = ['agent_id', 'role', 'specialty', 'mission', 'sender', 'date'] as const;
export type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** Placeholders in the text that are not known; empty when the template is valid. */
export function unknownPlaceholders(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1] ?? '';
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

export function renderTemplate(text: string, values: Partial<Record<Placeholder, string>>): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, k: string) => ((TEMPLATE_PLACEHOLDERS as readonly string[]).includes(k) ? (values[k as Placeholder] ?? '') : whole));
}

export const TEMPLATE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,49}$/;
