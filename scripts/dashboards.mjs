// Writes the Grafana dashboards of deploy/grafana/dashboards/ (standard dashboard JSON, schemaVersion
// 39) from the short lists below: `node scripts/dashboards.mjs`. Generated rather than drawn so that
// the panels stay few, uniform and reviewable; test/operate/dashboards.test.ts checks the committed
// files are this script's output and that every metric they use is one the hub exports.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = new URL('../deploy/grafana/dashboards/', import.meta.url).pathname;
const DS = { type: 'prometheus', uid: '${datasource}' };

/** A time series panel: `targets` are [expr, legend] pairs. */
function ts(title, unit, targets, description = '') {
  return { type: 'timeseries', title, description, unit, targets };
}
function stat(title, unit, expr, description = '') {
  return { type: 'stat', title, description, unit, targets: [[expr, '']] };
}

function dashboard(uid, title, description, rows) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const [rowTitle, row] of rows) {
    panels.push({ id: id++, type: 'row', title: rowTitle, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    const w = Math.floor(24 / row.length);
    row.forEach((p, i) => {
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        description: p.description,
        datasource: DS,
        gridPos: { h: 8, w, x: i * w, y },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' } : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), datasource: DS, expr, legendFormat })),
      });
    });
    y += 8;
  }
  return {
    uid,
    title,
    description,
    tags: ['swarm'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    timezone: '',
    links: [],
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source', current: {} },
        {
          name: 'job',
          type: 'query',
          label: 'Role',
          datasource: DS,
          query: { query: 'label_values(up{job=~"swarm.*"}, job)', refId: 'job' },
          definition: 'label_values(up{job=~"swarm.*"}, job)',
          includeAll: true,
          multi: true,
          allValue: 'swarm.*',
          current: {},
          refresh: 2,
        },
      ],
    },
    panels,
  };
}

const J = 'job=~"$job"';
const API = `${J}, route!~"/metrics|/healthz|/readyz"`;
const q99 = (metric, sel, by = '') => `histogram_quantile(0.99, sum by (le${by}) (rate(${metric}_bucket{${sel}}[$__rate_interval])))`;
const q50 = (metric, sel, by = '') => `histogram_quantile(0.5, sum by (le${by}) (rate(${metric}_bucket{${sel}}[$__rate_interval])))`;

const dashboards = {
  'swarm-overview': dashboard('swarm-overview', 'Swarm: overview', 'Traffic, errors, latency and saturation of every hub process (the four golden signals).', [
    ['Availability', [
      stat('Hubs up', 'none', `sum(up{${J}})`),
      stat('5xx ratio (5m)', 'percentunit', 'swarm:http_error_ratio:rate5m', 'Recording rule of deploy/prometheus/rules.yml; SLO 99.9 %.'),
      stat('5xx ratio (6h)', 'percentunit', 'swarm:http_error_ratio:rate6h'),
      stat('Sends/s', 'reqps', `sum(rate(swarm_messages_sent_total{${J}}[$__rate_interval]))`),
    ]],
    ['Traffic', [
      ts('Requests by route', 'reqps', [[`sum by (route) (rate(swarm_http_requests_total{${API}}[$__rate_interval]))`, '{{route}}']]),
      ts('Messages sent by type', 'reqps', [[`sum by (type) (rate(swarm_messages_sent_total{${J}}[$__rate_interval]))`, '{{type}}']]),
      ts('Open streams', 'none', [[`sum by (kind) (swarm_streams_open{${J}})`, '{{kind}}']]),
    ]],
    ['Errors', [
      ts('Answers by status class', 'reqps', [[`sum by (status) (rate(swarm_http_requests_total{${API}, status=~"[45].."}[$__rate_interval]))`, '{{status}}']]),
      ts('5xx by route', 'reqps', [[`sum by (route, status) (rate(swarm_http_requests_total{${API}, status=~"5.."}[$__rate_interval]))`, '{{route}} {{status}}']]),
      ts('Streams closed by reason', 'ops', [[`sum by (kind, reason) (rate(swarm_streams_closed_total{${J}}[$__rate_interval]))`, '{{kind}} {{reason}}']]),
    ]],
    ['Latency', [
      ts('Send latency (POST /v1/messages)', 's', [
        [q99('swarm_http_request_duration_seconds', `${J}, route="/v1/messages", method="POST"`), 'p99'],
        [q50('swarm_http_request_duration_seconds', `${J}, route="/v1/messages", method="POST"`), 'p50'],
      ], 'SLO: p99 under 50 ms'),
      ts('p99 by route', 's', [[q99('swarm_http_request_duration_seconds', API, ', route'), '{{route}}']]),
    ]],
    ['Saturation', [
      ts('Event loop lag p99', 's', [[`swarm_process_nodejs_eventloop_lag_p99_seconds{${J}}`, '{{instance}}']]),
      ts('CPU', 'percentunit', [[`rate(swarm_process_process_cpu_seconds_total{${J}}[$__rate_interval])`, '{{instance}}']]),
      ts('Memory', 'bytes', [
        [`swarm_process_process_resident_memory_bytes{${J}}`, 'rss {{instance}}'],
        [`swarm_process_nodejs_heap_size_used_bytes{${J}}`, 'heap {{instance}}'],
      ]),
    ]],
  ]),
  'swarm-delivery': dashboard('swarm-delivery', 'Swarm: delivery', 'Queues, leases, redeliveries, dead letters and delivery targets.', [
    ['Queues', [
      ts('Queue depth by agent', 'none', [[`max by (agent) (swarm_queue_depth{${J}})`, '{{agent}}']], 'Open deliveries not leased (read at scrape)'),
      ts('Leases in flight by agent', 'none', [[`max by (agent) (swarm_leases_in_flight{${J}})`, '{{agent}}']]),
      ts('Deliveries created and acknowledged', 'ops', [
        [`sum(rate(swarm_deliveries_created_total{${J}}[$__rate_interval]))`, 'created'],
        [`sum by (via) (rate(swarm_acks_total{${J}}[$__rate_interval]))`, 'acked via {{via}}'],
        [`sum(rate(swarm_nacks_total{${J}}[$__rate_interval]))`, 'nacked'],
      ]),
    ]],
    ['Redeliveries and dead letters', [
      ts('Hand-outs to streams', 'ops', [[`sum by (attempt) (rate(swarm_deliveries_handed_out_total{${J}}[$__rate_interval]))`, '{{attempt}}']]),
      ts('Redelivery ratio', 'percentunit', [[`sum(rate(swarm_deliveries_handed_out_total{${J}, attempt="redelivery"}[$__rate_interval])) / sum(rate(swarm_deliveries_handed_out_total{${J}}[$__rate_interval]))`, 'redeliveries']]),
      ts('Redeliveries by agent', 'none', [[`max by (agent) (swarm_redeliveries{${J}})`, '{{agent}}']]),
      ts('Dead letters by agent', 'none', [[`max by (agent) (swarm_dead_letters{${J}})`, '{{agent}}']]),
    ]],
    ['Delivery targets', [
      ts('Pushes by kind and outcome', 'ops', [[`sum by (kind, outcome) (rate(swarm_target_pushes_total{${J}}[$__rate_interval]))`, '{{kind}} {{outcome}}']]),
      ts('Push latency p99 by kind', 's', [[q99('swarm_target_push_seconds', J, ', kind'), '{{kind}}']]),
      ts('Breaker state (0 closed, 1 half-open, 2 open)', 'none', [[`max by (target, kind) (swarm_target_breaker_state{${J}})`, '{{kind}} {{target}}']]),
    ]],
  ]),
  'swarm-agents': dashboard('swarm-agents', 'Swarm: agents and contracts', 'Messages and tasks per agent, and points earned.', [
    ['Messages', [
      ts('Messages sent by agent', 'ops', [[`sum by (sender) (rate(swarm_messages_sent_total{${J}}[$__rate_interval]))`, '{{sender}}']]),
      ts('Messages by kind (A2A, C2A, …)', 'ops', [[`sum by (kind) (rate(swarm_messages_sent_total{${J}}[$__rate_interval]))`, '{{kind}}']]),
    ]],
    ['Tasks', [
      ts('Task events', 'ops', [[`sum by (event) (rate(swarm_task_events_total{${J}}[$__rate_interval]))`, '{{event}}']]),
      ts('Tasks done by agent (range)', 'none', [[`sum by (agent) (increase(swarm_task_events_total{${J}, event="done"}[$__range]))`, '{{agent}}']]),
    ]],
    ['Points', [
      ts('Points verified by agent (range)', 'none', [[`sum by (agent) (increase(swarm_points_verified_total{${J}}[$__range]))`, '{{agent}}']]),
      ts('Points verified per hour', 'none', [[`sum by (agent) (rate(swarm_points_verified_total{${J}}[$__rate_interval])) * 3600`, '{{agent}}']]),
    ]],
  ]),
  'swarm-storage': dashboard('swarm-storage', 'Swarm: storage', 'Group commits (latency, batch sizes) and the embedded store\'s WAL.', [
    ['Group commits', [
      ts('Commit latency', 's', [
        [q99('swarm_group_commit_seconds', J, ', kind'), 'p99 {{kind}}'],
        [q50('swarm_group_commit_seconds', J, ', kind'), 'p50 {{kind}}'],
      ], 'From the start of a group commit to its outcome, fsync included'),
      ts('Batch size p50 / p99', 'none', [
        [q50('swarm_group_commit_size', J, ', kind'), 'p50 {{kind}}'],
        [q99('swarm_group_commit_size', J, ', kind'), 'p99 {{kind}}'],
      ]),
      ts('Commits/s', 'ops', [[`sum by (kind) (rate(swarm_group_commit_seconds_count{${J}}[$__rate_interval]))`, '{{kind}}']]),
    ]],
    ['WAL and audit', [
      ts('WAL bytes (limit 256 MiB by default)', 'bytes', [[`swarm_store_wal_bytes{${J}}`, '{{instance}}']]),
      ts('Audit write failures', 'none', [[`sum(increase(swarm_audit_write_failures_total{${J}}[$__rate_interval]))`, 'failures']]),
    ]],
  ]),
};

/** The dashboards as file name -> JSON text. */
export function dashboardFiles() {
  return Object.fromEntries(Object.entries(dashboards).map(([name, d]) => [`${name}.json`, `${JSON.stringify(d, null, 2)}\n`]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, text] of Object.entries(dashboardFiles())) writeFileSync(join(OUT, name), text);
}
