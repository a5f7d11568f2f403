// Human output (tables and message views) versus --json (exactly one JSON document on stdout).
import type { WireAgent, WireInboxItem, WireMessage } from '../api/schemas.js';

export interface Output {
  json: boolean;
  quiet: boolean;
  color: boolean;
  out: (s: string) => void;
}

export function makeOutput(o: { json?: boolean; quiet?: boolean; color?: boolean }): Output {
  const color = o.color !== false && process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  return { json: o.json === true, quiet: o.quiet === true, color, out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`) };
}

const paint = (on: boolean, code: number, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Prints either the JSON document or the human text. */
export function emit(o: Output, doc: unknown, human: () => string): void {
  if (o.json) o.out(JSON.stringify(doc, null, 2));
  else {
    const text = human();
    if (text !== '') o.out(text);
  }
}

export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function priorityLabel(o: Output, p: string): string {
  return p === 'urgent' ? paint(o.color, 31, p) : p === 'high' ? paint(o.color, 33, p) : p;
}

export function kindTag(o: Output, kind: string): string {
  return paint(o.color, 36, `[${kind}]`);
}

export function inboxTable(o: Output, items: WireInboxItem[]): string {
  if (items.length === 0) return 'inbox is empty';
  return table(
    ['ID', 'TAG', 'FROM', 'PRIORITY', 'TYPE', 'STATE', 'SENT', 'SUBJECT / BODY'],
    items.map((i) => [
      i.message.id,
      `[${i.message.kind}]`,
      i.message.from,
      priorityLabel({ ...o, color: false }, i.message.priority),
      i.message.type,
      i.delivery.state,
      ago(i.message.created_at),
      oneLine(i.message.subject !== '' ? `${i.message.subject}: ${i.message.body}` : i.message.body, 60),
    ]),
  );
}

export function messagesTable(messages: WireMessage[]): string {
  if (messages.length === 0) return 'no messages';
  return table(
    ['ID', 'TAG', 'FROM', 'TO', 'TYPE', 'PRIORITY', 'SENT', 'SUBJECT / BODY'],
    messages.map((m) => [
      m.id,
      `[${m.kind}]`,
      m.from,
      oneLine(m.to.join(','), 24),
      m.type,
      m.priority,
      ago(m.created_at),
      oneLine(m.subject !== '' ? `${m.subject}: ${m.body}` : m.body, 60),
    ]),
  );
}

/** A message in full, headed by the sender/recipient tag like the original tool. */
export function messageView(o: Output, m: WireMessage, extra: string[] = []): string {
  const head = `${kindTag(o, m.kind)} ${m.from} → ${m.to.join(', ')}  ${priorityLabel(o, m.priority)} ${m.type}`;
  const meta = [`id ${m.id}`, `thread ${m.thread_id}`, ...(m.reply_to ? [`reply to ${m.reply_to}`] : []), `sent ${m.created_at}`, ...extra];
  const lines = [head, meta.join(' · ')];
  if (m.tags.length > 0) lines.push(`tags: ${m.tags.join(', ')}`);
  if (m.subject !== '') lines.push(`subject: ${m.subject}`);
  lines.push('', m.body);
  return lines.join('\n');
}

export function agentsTable(agents: WireAgent[]): string {
  if (agents.length === 0) return 'no agents';
  return table(
    ['ID', 'ROLE', 'PRESENCE', 'LAST SEEN', 'SPECIALTY', 'MISSION'],
    agents.map((a) => [a.id, a.role, a.presence, ago(a.last_seen_at), oneLine(a.specialty, 40), oneLine(a.mission, 50)]),
  );
}

export function agentView(a: WireAgent): string {
  return [
    `${a.id} (${a.role}) — ${a.presence}${a.presence !== a.status ? ` (status ${a.status})` : ''}`,
    a.specialty !== '' ? `specialty: ${a.specialty}` : '',
    a.capabilities.length > 0 ? `capabilities: ${a.capabilities.join(', ')}` : '',
    a.mission !== '' ? `mission: ${a.mission}` : '',
    `last seen: ${ago(a.last_seen_at)}`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}
