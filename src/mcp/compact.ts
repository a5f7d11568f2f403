// What MCP tools answer: compact JSON, because every byte lands in a model's context. Messages are
// ids, sender, kind, subject and the first lines of the body unless `full` is asked for; lists fit a
// byte budget by clipping each preview (a 50-message inbox stays under 6 KB), never by dropping items.
import type { WireAgent, WireInboxItem, WireMessage, WireTask } from '../api/schemas.js';

/** Bytes a list of messages may take without `full` (the 50-message inbox test holds it to 6 KB). */
export const LIST_BUDGET = 5200;
/** Longest preview of one message, however few there are. */
const MAX_PREVIEW = 240;

export function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, Math.max(1, max - 1))}…`;
}

/** The first non-empty lines of a body, joined, clipped. */
export function preview(body: string, max: number): string {
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  return clip(lines.slice(0, 3).join(' / '), max);
}

/** Per-item preview length for `n` items in the list budget. */
export function previewFor(n: number): number {
  // ~90 bytes of each item are its id, sender, kind and keys.
  return Math.max(24, Math.min(MAX_PREVIEW, Math.floor(LIST_BUDGET / Math.max(1, n)) - 90));
}

export type CompactMessage = Record<string, unknown>;

/** A message: fields at their defaults are left out (priority regular, type text, no subject). */
export function compactMessage(m: WireMessage, o: { full: boolean; max: number; to?: boolean }): CompactMessage {
  const out: CompactMessage = { id: m.id, from: m.from };
  if (o.to === true) out.to = m.to.join(',');
  out.kind = m.kind;
  if (m.priority !== 'regular') out.pri = m.priority;
  if (m.type !== 'text') out.type = m.type;
  if (o.full) {
    if (m.subject !== '') out.subject = m.subject;
    out.body = m.body;
    out.thread = m.thread_id;
    if (m.reply_to !== null) out.reply_to = m.reply_to;
    if (m.tags.length > 0) out.tags = m.tags;
    if (Object.keys(m.metadata).length > 0) out.metadata = m.metadata;
    out.at = m.created_at;
  } else {
    const subject = m.subject === '' ? '' : clip(m.subject, Math.max(16, Math.floor(o.max / 3)));
    if (subject !== '') out.subj = subject;
    out.text = preview(m.body, Math.max(16, o.max - subject.length));
  }
  return out;
}

export function compactMessages(ms: WireMessage[], full: boolean, to = false): CompactMessage[] {
  const max = previewFor(ms.length);
  return ms.map((m) => compactMessage(m, { full, max, to }));
}

/** Inbox items: the message, and its delivery state when it is not plain "delivered". */
export function compactInbox(items: WireInboxItem[], full: boolean): CompactMessage[] {
  const max = previewFor(items.length);
  return items.map((i) => {
    const c = compactMessage(i.message, { full, max });
    if (i.delivery.state !== 'delivered' && i.delivery.state !== 'pending') c.state = i.delivery.state;
    return c;
  });
}

/** Everything about one message: what `read` answers. */
export function fullMessage(m: WireMessage, state?: string): CompactMessage {
  const c = compactMessage(m, { full: true, max: 0, to: true });
  if (state !== undefined) c.state = state;
  return c;
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
