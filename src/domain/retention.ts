// Retention of messages (retention.messages): how long an acknowledged message is kept, by
// channel, by type, or for every message. Written `*=90,report=365,#ops=30,#decisions=forever`:
// a channel rule wins over a type rule, which wins over `*`; a message posted to several channels
// is kept as long as the longest of theirs. A message with no rule is kept forever.
import { CHANNEL_NAME_PATTERN } from './channel.js';
import { MESSAGE_TYPES, type MessageType } from './message.js';

/** Days, or null for forever. */
export type Keep = number | null;

export interface RetentionRules {
  all: Keep | undefined;
  types: Map<MessageType, Keep>;
  channels: Map<string, Keep>;
}

const DAY_MS = 86_400_000;

/** Parses the setting; throws an Error naming the part it cannot read. '' keeps everything. */
export function parseRetention(text: string): RetentionRules {
  const rules: RetentionRules = { all: undefined, types: new Map(), channels: new Map() };
  for (const raw of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([^=\s]+)\s*=\s*(\d+|forever)$/.exec(raw);
    if (m === null) throw new Error(`'${raw}' is not SELECTOR=DAYS (e.g. *=90, report=365, #ops=30, #decisions=forever)`);
    const [, selector = '', days = ''] = m;
    const keep: Keep = days === 'forever' ? null : Number(days);
    if (keep !== null && (keep < 1 || keep > 36_500)) throw new Error(`'${raw}': days must be between 1 and 36500, or forever`);
    if (selector === '*') {
      if (rules.all !== undefined) throw new Error(`'*' is given twice`);
      rules.all = keep;
    } else if (selector.startsWith('#')) {
      const name = selector.slice(1);
      if (!CHANNEL_NAME_PATTERN.test(name)) throw new Error(`'${selector}' is not a channel name`);
      if (rules.channels.has(name)) throw new Error(`'${selector}' is given twice`);
      rules.channels.set(name, keep);
    } else {
      if (!(MESSAGE_TYPES as readonly string[]).includes(selector)) throw new Error(`'${selector}' is neither *, a #channel nor a message type (${MESSAGE_TYPES.join(', ')})`);
      if (rules.types.has(selector as MessageType)) throw new Error(`'${selector}' is given twice`);
      rules.types.set(selector as MessageType, keep);
    }
  }
  return rules;
}

/** Whether any rule removes anything. */
export function removesAnything(r: RetentionRules): boolean {
  return [r.all, ...r.types.values(), ...r.channels.values()].some((k) => typeof k === 'number');
}

/** The shortest time any rule keeps a message, in days; null when nothing is ever removed. */
export function shortestDays(r: RetentionRules): number | null {
  const days = [r.all, ...r.types.values(), ...r.channels.values()].filter((k): k is number => typeof k === 'number');
  return days.length === 0 ? null : Math.min(...days);
}

/**
 * The rule that decides how long this message is kept, and that time (days, or null: forever):
 * of its channels' rules the longest, else its type's, else `*`; none: kept forever.
 */
export function ruleFor(r: RetentionRules, m: { type: MessageType; channels: readonly string[] }): { selector: string; keep: Keep } {
  let best: { selector: string; keep: Keep } | null = null;
  for (const c of m.channels) {
    if (!r.channels.has(c)) continue;
    const keep = r.channels.get(c) as Keep;
    if (best === null || best.keep !== null && (keep === null || keep > best.keep)) best = { selector: `#${c}`, keep };
  }
  if (best !== null) return best;
  if (r.types.has(m.type)) return { selector: m.type, keep: r.types.get(m.type) as Keep };
  return { selector: '*', keep: r.all ?? null };
}

/** Whether the message's time is up at `now`. */
export function expired(r: RetentionRules, m: { type: MessageType; channels: readonly string[]; createdAt: number }, now: number): boolean {
  const { keep } = ruleFor(r, m);
  return keep !== null && m.createdAt < now - keep * DAY_MS;
}

export { DAY_MS };
