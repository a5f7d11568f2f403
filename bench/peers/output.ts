// The peers benchmark's results: rows of every round gathered per (case, system, variant), medians
// of them, and a markdown table per case with each figure's durability beside it.
import { median } from '../report.js';
import type { CaseName, MemoryRow, Row, SystemName } from './system.js';

export interface Summary {
  system: SystemName;
  variant: string;
  durability: string;
  /** Medians over the rounds. */
  rate: number;
  p50: number;
  p99: number;
  /** The worst of any round. */
  max: number;
  cpuPct: number;
  clientCpuPct: number;
  perRound: number[];
  errors: number;
  firstError: string | null;
  note: string;
}

/** What a case measures, in the table's heading. */
export const CASE_TITLES: Record<Exclude<CaseName, 'memory'>, { title: string; unit: string; latency: string }> = {
  publish: { title: 'Durable publish with acknowledgement (closed loop)', unit: 'publishes/s', latency: 'from the publish call to its acknowledgement' },
  'one-connection': { title: 'One connection, publishes in flight on it', unit: 'publishes/s', latency: 'from the publish call to its acknowledgement' },
  consume: { title: 'Consume + ack: drain a pre-loaded queue', unit: 'messages/s', latency: '' },
  e2e: { title: 'End to end at a fixed offered rate (open loop)', unit: 'received/s', latency: "from the publish call's start to receipt by the consumer" },
  fanout: { title: 'Fan-out: each publish to every consumer', unit: 'deliveries/s', latency: '' },
};

export class Results {
  private readonly rows = new Map<string, { system: SystemName; rows: Row[] }>();
  private readonly order: string[] = [];

  add(c: CaseName, system: SystemName, rows: Row[]): void {
    for (const r of rows) {
      const key = `${c}\u0000${system}\u0000${r.variant}`;
      let entry = this.rows.get(key);
      if (entry === undefined) {
        entry = { system, rows: [] };
        this.rows.set(key, entry);
        this.order.push(key);
      }
      entry.rows.push(r);
    }
  }

  /** Summaries of one case, systems in their canonical order. */
  summaries(c: CaseName, systems: readonly SystemName[]): Summary[] {
    const out: Summary[] = [];
    for (const key of this.order) {
      if (!key.startsWith(`${c}\u0000`)) continue;
      const { system, rows } = this.rows.get(key) as { system: SystemName; rows: Row[] };
      const last = rows[rows.length - 1] as Row;
      const ms = rows.map((r) => r.m);
      out.push({
        system,
        variant: last.variant,
        durability: last.durability,
        rate: median(ms.map((m) => m.rate)),
        p50: median(ms.map((m) => m.p50)),
        p99: median(ms.map((m) => m.p99)),
        max: Math.max(...ms.map((m) => m.max)),
        cpuPct: median(ms.map((m) => m.cpuPct)),
        clientCpuPct: median(ms.map((m) => m.clientCpuPct)),
        perRound: ms.map((m) => m.rate),
        errors: ms.reduce((n, m) => n + m.errors, 0),
        firstError: ms.find((m) => m.firstError !== null)?.firstError ?? null,
        note: last.note ?? '',
      });
    }
    return out.sort((a, b) => systems.indexOf(a.system) - systems.indexOf(b.system));
  }
}

function fmt(x: number, digits: number): string {
  if (Number.isNaN(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function markdown(rows: string[][]): string {
  const [head, ...body] = rows;
  if (head === undefined) return '';
  const line = (r: string[]): string => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(head), `|${head.map((_, i) => (i < 2 ? '---' : i === head.length - 1 ? '---' : '--:')).join('|')}|`, ...body.map(line)].join('\n');
}

export function caseTable(c: Exclude<CaseName, 'memory'>, sums: Summary[]): string {
  const t = CASE_TITLES[c];
  const latency = t.latency !== '';
  const head = ['system', 'how', t.unit, ...(latency ? ['p50 ms', 'p99 ms', 'max ms'] : []), 'server CPU %', 'server CPU µs per op', 'client CPU %', 'per round', 'errors', 'durability'];
  const rows = sums.map((s) => [
    s.system,
    s.note === '' ? s.variant : `${s.variant} (${s.note})`,
    fmt(s.rate, 0),
    ...(latency ? [fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.max, 1)] : []),
    fmt(s.cpuPct, 0),
    fmt((s.cpuPct * 1e4) / s.rate, 0),
    fmt(s.clientCpuPct, 0),
    s.perRound.map((r) => fmt(r, 0)).join(' / '),
    s.errors === 0 ? '0' : `${s.errors}: ${(s.firstError ?? '').slice(0, 120)}`,
    s.durability,
  ]);
  return [`### ${t.title}${latency ? `; latency ${t.latency}` : ''}`, '', markdown([head, ...rows])].join('\n');
}

export function memoryTable(rows: { system: SystemName; memory: MemoryRow }[]): string {
  return [
    '### Memory: resident set of each server process at the end',
    '',
    markdown([['system', 'process', 'RSS MiB', 'peak (VmHWM) MiB', 'note'], ...rows.map(({ system, memory: m }) => [system, m.process, fmt(m.rssMiB, 0), fmt(m.peakMiB, 0), m.note])]),
  ].join('\n');
}
