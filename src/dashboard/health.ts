// Health: small SVG line charts of the hub's own numbers, sampled at each poll. Queue numbers from
// /v1/queue (roles allowed queue.stats; an agent sees its own), send rate and mean request latency
// from /metrics (the Prometheus text the hub serves to anyone, like /healthz).
import { api, metricSums } from './api.js';
import { byId, el } from './dom.js';

const SAMPLES = 60;
const SVG = 'http://www.w3.org/2000/svg';

interface Series {
  label: string;
  unit: string;
  values: number[];
}

function chart(s: Series): HTMLElement {
  const last = s.values.at(-1) ?? 0;
  const max = Math.max(1, ...s.values);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${SAMPLES - 1} 40`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${s.label}: last ${s.values.length} samples, now ${last}`);
  const line = document.createElementNS(SVG, 'polyline');
  const offset = SAMPLES - s.values.length;
  line.setAttribute('points', s.values.map((v, i) => `${offset + i},${(38 - (v / max) * 36).toFixed(1)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#1a4fb5');
  line.setAttribute('stroke-width', '1.5');
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(line);
  return el('div', { class: 'chart' }, el('p', {}, `${s.label}: `, el('strong', {}, `${Number.isInteger(last) ? last : last.toFixed(2)}${s.unit}`)), svg);
}

export class Health {
  private readonly series = new Map<string, Series>();
  private prev: { at: number; sent: number; durSum: number; durCount: number } | null = null;

  private push(label: string, unit: string, v: number): void {
    const s = this.series.get(label) ?? { label, unit, values: [] };
    s.values.push(v);
    if (s.values.length > SAMPLES) s.values.shift();
    this.series.set(label, s);
  }

  async sample(queueAllowed: boolean): Promise<void> {
    if (queueAllowed) {
      const { agents } = await api<{ agents: { depth: number; in_flight: number; dead: number; redeliveries: number }[] }>('/queue');
      const sum = (k: 'depth' | 'in_flight' | 'dead' | 'redeliveries'): number => agents.reduce((n, a) => n + a[k], 0);
      this.push('Queue depth', '', sum('depth'));
      this.push('In flight', '', sum('in_flight'));
      this.push('Dead letters', '', sum('dead'));
      this.push('Redeliveries', '', sum('redeliveries'));
    }
    const m = await metricSums(['swarm_messages_sent_total', 'swarm_http_request_duration_seconds_sum', 'swarm_http_request_duration_seconds_count']);
    if (m === null) {
      // No send rate or latency rather than a flat zero that looks like an idle hub.
      this.prev = null;
      for (const label of ['Sends', 'Request latency']) this.series.delete(label);
      byId('health-charts').replaceChildren(...[...this.series.values()].map(chart));
      return;
    }
    const now = performance.now();
    const cur = { at: now, sent: m.get('swarm_messages_sent_total') ?? 0, durSum: m.get('swarm_http_request_duration_seconds_sum') ?? 0, durCount: m.get('swarm_http_request_duration_seconds_count') ?? 0 };
    if (this.prev !== null) {
      const secs = Math.max(0.001, (cur.at - this.prev.at) / 1000);
      this.push('Sends', '/s', Math.max(0, (cur.sent - this.prev.sent) / secs));
      const n = cur.durCount - this.prev.durCount;
      this.push('Request latency', ' ms', n > 0 ? ((cur.durSum - this.prev.durSum) / n) * 1000 : 0);
    }
    this.prev = cur;
    byId('health-charts').replaceChildren(...[...this.series.values()].map(chart));
  }
}
