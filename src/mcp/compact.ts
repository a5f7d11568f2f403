// What MCP tools answer: compact JSON, because every byte lands in a model's context. Messages are
// ids, sender, kind, subject and the first lines of the body unless `full` is asked for; lists fit a
// byte budget by clipping each preview (a 50-message inbox stays under 6 KB), never by dropping items.
import type { WireAgent, WireInboxItem, WireMessage, WireTask } from '../api/schemas.js';

/**
 * Bytes of JSON a list of messages may take without `full`: a 50-message inbox answer stays under
 * 6 KB on the wire (its text escaped inside the JSON-RPC result), measured by a test.
 */
export const LIST_BUDGET = 5600;
/** Longest preview of one message, however few there are. */
const MAX_PREVIEW = 240;
/** Wire bytes of one row besides its values: escaped quotes, commas, brackets, two ellipses. */
const ROW_PUNCTUATION = 45;

export function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, Math.max(1, max - 1))}…`;
}

/** The first non-empty lines of a body, joined, clipped. */
export function preview(body: string, max: number): string {
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  return clip(lines.slice(0, 3).join(' / '), max);
}

/** Bytes each of `n` rows may take. */
export function rowBudget(n: number): number {
  return Math.floor(LIST_BUDGET / Math.max(1, n));
}

export type CompactMessage = Record<string, unknown>;

/**
 * A list of messages as rows under one header: objects would repeat every key in every item, about
 * a third of a compact inbox. `pri` is empty for regular; `state` (inbox only) empty unless read.
 */
export interface MessageRows {
  cols: string[];
  rows: string[][];
}

const COLS = ['id', 'from', 'kind', 'pri', 'subject', 'first_lines'];

function row(m: WireMessage, budget: number): string[] {
  const fixed = m.id.length + m.from.length + m.kind.length + (m.priority === 'regular' ? 0 : m.priority.length) + ROW_PUNCTUATION;
  const max = Math.max(24, Math.min(MAX_PREVIEW, budget - fixed));
  const subject = m.subject === '' ? '' : clip(m.subject, Math.max(16, Math.floor(max * 0.4)));
  return [m.id, m.from, m.kind, m.priority === 'regular' ? '' : m.priority, subject, preview(m.body, Math.max(16, max - subject.length))];
}

/** Messages (thread, search, history): rows, or with `full` whole messages. */
export function compactMessages(ms: WireMessage[], full: boolean): MessageRows | { messages: CompactMessage[] } {
  if (full) return { messages: ms.map((m) => fullMessage(m)) };
  const budget = rowBudget(ms.length);
  return { cols: COLS, rows: ms.map((m) => row(m, budget)) };
}

/** Inbox items: rows with the delivery state, or with `full` whole messages. */
export function compactInbox(items: WireInboxItem[], full: boolean): MessageRows | { messages: CompactMessage[] } {
  const stateOf = (i: WireInboxItem): string => (i.delivery.state === 'delivered' || i.delivery.state === 'pending' ? '' : i.delivery.state);
  if (full) return { messages: items.map((i) => fullMessage(i.message, stateOf(i) || undefined)) };
  const budget = rowBudget(items.length);
  return { cols: [...COLS, 'state'], rows: items.map((i) => [...row(i.message, budget - stateOf(i).length - 5), stateOf(i)]) };
}

/** Everything about one message: what `read` and `full` answer. Fields at their defaults are left out. */
export function fullMessage(m: WireMessage, state?: string): CompactMessage {
  const out: CompactMessage = { id: m.id, from: m.from, to: m.to.join(','), kind: m.kind };
  if (m.priority !== 'regular') out.pri = m.priority;
  if (m.type !== 'text') out.type = m.type;
  if (m.subject !== '') out.subject = m.subject;
  out.body = m.body;
  out.thread = m.thread_id;
  if (m.reply_to !== null) out.reply_to = m.reply_to;
  if (m.tags.length > 0) out.tags = m.tags;
  if (Object.keys(m.metadata).length > 0) out.metadata = m.metadata;
  out.at = m.created_at;
  if (state !== undefined) out.state = state;
  return out;
}

export function compactTask(t: WireTask, o: { full?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, title: t.title, points: t.points, status: t.status };
  if (t.assignee !== null) out.assignee = t.assignee;
  if (t.priority !== 'regular') out.pri = t.priority;
  if (t.capabilities.length > 0) out.caps = t.capabilities;
  if (t.role !== null) out.role = t.role;
  if (t.description !== '') out.description = o.full === true ? t.description : clip(t.description, 300);
  if (t.note !== '') out.note = o.full === true ? t.note : clip(t.note, 200);
  if (t.verified_by !== null) out.verified_by = t.verified_by;
  return out;
}

export function compactAgent(a: WireAgent): Record<string, unknown> {
  const out: Record<string, unknown> = { id: a.id, role: a.role, presence: a.presence };
  if (a.specialty !== '') out.specialty = clip(a.specialty, 80);
  if (a.mission !== '') out.mission = clip(a.mission, 120);
  return out;
}
