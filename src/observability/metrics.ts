// The one metrics registry (Prometheus, prom-client). Every metric the Grafana dashboards and alert
// rules use is defined here; names are documented in docs/metrics.md. Hot-path updates are plain
// counter/histogram calls (about a microsecond); expensive numbers (queue depth per agent, dead
// letters) are read from the store only when Prometheus scrapes.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  messagesSent: Counter<'sender' | 'type' | 'kind'>;
  deliveriesCreated: Counter;
  handedOut: Counter<'attempt'>;
  acks: Counter<'via'>;
  nacks: Counter;
  streamsOpen: Gauge<'kind'>;
  streamsClosed: Counter<'kind' | 'reason'>;
  commitBatch: Histogram<'kind'>;
  commitSeconds: Histogram<'kind'>;
  tasks: Counter<'event' | 'agent'>;
  pointsVerified: Counter<'agent'>;
  queueDepth: Gauge<'agent'>;
  inFlight: Gauge<'agent'>;
  deadLetters: Gauge<'agent'>;
  redeliveries: Gauge<'agent'>;
  auditWriteFailures: Counter;
  walBytes: Gauge;
  walLimitBytes: Gauge;
  writerThreadUp: Gauge;
  buildInfo: Gauge<'version' | 'store' | 'role'>;
  settingsVersion: Gauge;
  targetPushes: Counter<'kind' | 'outcome'>;
  targetPushSeconds: Histogram<'kind'>;
  targetBreaker: Gauge<'target' | 'kind'>;
  /** Numbers gauges read when Prometheus scrapes, set by whoever has them (serve.ts). */
  backupAge: Gauge;
  diskFreeBytes: Gauge;
  diskSizeBytes: Gauge;
  poolConnections: Gauge<'state'>;
  poolMax: Gauge;
  keyRotationRunning: Gauge;
  sources: {
    walBytes: (() => number) | null;
    writerUp: (() => boolean) | null;
    settingsVersion: (() => number) | null;
    backupAge: (() => number | null) | null;
    /** The data directory's file system (the embedded store). */
    disk: (() => { free: number; size: number }) | null;
    /** The PostgreSQL pool of this process. */
    pool: (() => { total: number; idle: number; waiting: number; max: number }) | null;
    keyRotation: (() => boolean) | null;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'swarm_process_' });
  const r = { registers: [registry] };
  const sources: Metrics['sources'] = { walBytes: null, writerUp: null, settingsVersion: null, backupAge: null, disk: null, pool: null, keyRotation: null };
  return {
    registry,
    httpRequests: new Counter({ name: 'swarm_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status'], ...r }),
    httpDuration: new Histogram({
      name: 'swarm_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (streams and long-polls excluded)',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ...r,
    }),
    messagesSent: new Counter({ name: 'swarm_messages_sent_total', help: 'Messages stored, by sender, type and tag', labelNames: ['sender', 'type', 'kind'], ...r }),
    deliveriesCreated: new Counter({ name: 'swarm_deliveries_created_total', help: 'Deliveries created (one per message and recipient)', ...r }),
    handedOut: new Counter({ name: 'swarm_deliveries_handed_out_total', help: 'Deliveries handed to stream consumers; attempt>1 are redeliveries', labelNames: ['attempt'], ...r }),
    acks: new Counter({ name: 'swarm_acks_total', help: 'Deliveries acknowledged, by interface', labelNames: ['via'], ...r }),
    nacks: new Counter({ name: 'swarm_nacks_total', help: 'Deliveries returned unacknowledged', ...r }),
    streamsOpen: new Gauge({ name: 'swarm_streams_open', help: 'Open streams, by kind (ws, sse)', labelNames: ['kind'], ...r }),
    streamsClosed: new Counter({ name: 'swarm_streams_closed_total', help: 'Streams closed, by kind and reason', labelNames: ['kind', 'reason'], ...r }),
    commitBatch: new Histogram({ name: 'swarm_group_commit_size', help: 'Items per group commit', labelNames: ['kind'], buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], ...r }),
    commitSeconds: new Histogram({
      name: 'swarm_group_commit_seconds',
      help: 'Time one group commit takes (including fsync)',
      labelNames: ['kind'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      ...r,
    }),
    tasks: new Counter({ name: 'swarm_task_events_total', help: 'Task changes, by event and agent', labelNames: ['event', 'agent'], ...r }),
    pointsVerified: new Counter({ name: 'swarm_points_verified_total', help: 'Points credited on verified tasks, by agent', labelNames: ['agent'], ...r }),
    queueDepth: new Gauge({ name: 'swarm_queue_depth', help: 'Open deliveries not leased, per agent (read at scrape)', labelNames: ['agent'], ...r }),
    inFlight: new Gauge({ name: 'swarm_leases_in_flight', help: 'Deliveries leased and not acknowledged, per agent (read at scrape)', labelNames: ['agent'], ...r }),
    deadLetters: new Gauge({ name: 'swarm_dead_letters', help: 'Dead letters, per agent (read at scrape)', labelNames: ['agent'], ...r }),
    redeliveries: new Gauge({ name: 'swarm_redeliveries', help: 'Hand-outs beyond the first, per agent (read at scrape)', labelNames: ['agent'], ...r }),
    auditWriteFailures: new Counter({ name: 'swarm_audit_write_failures_total', help: 'Audit records that could not be written: of a refusal (logged), or of a call made with --as (then refused)', ...r }),
    // Delivery targets (src/delivery/): by kind and outcome (ok, or the failure's reason: a closed
    // list), so the series stay few; the breaker per target (at most limits of targets per agent).
    targetPushes: new Counter({ name: 'swarm_target_pushes_total', help: 'Pushes to delivery targets, by kind and outcome (ok, timeout, refused, http_status, bad_target, shell_refused, not_shown, busy, exit_status, io)', labelNames: ['kind', 'outcome'], ...r }),
    targetPushSeconds: new Histogram({
      name: 'swarm_target_push_seconds',
      help: 'Time of one push to a delivery target, by kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ...r,
    }),
    targetBreaker: new Gauge({ name: 'swarm_target_breaker_state', help: 'Circuit breaker of each delivery target in this process: 0 closed, 1 half-open, 2 open', labelNames: ['target', 'kind'], ...r }),
    walBytes: new Gauge({
      name: 'swarm_store_wal_bytes',
      help: 'Size of the embedded store\'s -wal file, in bytes (read at scrape; kept under store.walLimitMiB; 0 on PostgreSQL)',
      collect() {
        this.set(sources.walBytes?.() ?? 0);
      },
      ...r,
    }),
    walLimitBytes: new Gauge({ name: 'swarm_store_wal_limit_bytes', help: 'store.walLimitMiB in bytes: the WAL size the writer cuts back from (0 on PostgreSQL)', ...r }),
    writerThreadUp: new Gauge({
      name: 'swarm_store_writer_thread_up',
      help: "1 while the embedded store's sends and acks are committed on its writer thread, 0 once it died and they moved to the event loop (always 1 on PostgreSQL)",
      collect() {
        this.set(sources.writerUp === null ? 1 : sources.writerUp() ? 1 : 0);
      },
      ...r,
    }),
    buildInfo: new Gauge({ name: 'swarm_build_info', help: 'Always 1, labelled with the hub version, its store kind and its role', labelNames: ['version', 'store', 'role'], ...r }),
    settingsVersion: new Gauge({
      name: 'swarm_settings_version',
      help: 'Version of the shared settings this process applies (swarm config set/rollback make a new one)',
      collect() {
        this.set(sources.settingsVersion?.() ?? 0);
      },
      ...r,
    }),
    diskFreeBytes: new Gauge({
      name: 'swarm_store_disk_free_bytes',
      help: 'Bytes free for the hub on the file system of the embedded store (read at scrape; absent on PostgreSQL)',
      collect() {
        const d = sources.disk?.();
        if (d !== undefined) this.set(d.free);
      },
      ...r,
    }),
    diskSizeBytes: new Gauge({
      name: 'swarm_store_disk_size_bytes',
      help: 'Size of the file system of the embedded store (read at scrape; absent on PostgreSQL)',
      collect() {
        const d = sources.disk?.();
        if (d !== undefined) this.set(d.size);
      },
      ...r,
    }),
    poolConnections: new Gauge({
      name: 'swarm_store_pool_connections',
      help: 'PostgreSQL pool of this process: connections in use, idle, and callers waiting for one (state=waiting); absent on SQLite',
      labelNames: ['state'],
      collect() {
        const p = sources.pool?.();
        if (p === undefined) return;
        this.set({ state: 'in_use' }, p.total - p.idle);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'waiting' }, p.waiting);
      },
      ...r,
    }),
    poolMax: new Gauge({
      name: 'swarm_store_pool_max',
      help: 'store.poolSize: the most connections the PostgreSQL pool of this process opens (absent on SQLite)',
      collect() {
        const p = sources.pool?.();
        if (p !== undefined) this.set(p.max);
      },
      ...r,
    }),
    keyRotationRunning: new Gauge({
      name: 'swarm_key_rotation_running',
      help: '1 while this process runs a key rotation (swarm keys rotate), else 0',
      collect() {
        this.set(sources.keyRotation?.() === true ? 1 : 0);
      },
      ...r,
    }),
    backupAge: new Gauge({
      name: 'swarm_backup_last_good_age_seconds',
      help: 'Age of the newest verified backup in <data.dir>/backups (read at scrape; -1: none; embedded hub only)',
      collect() {
        const f = sources.backupAge;
        if (f === null) return;
        this.set(f() ?? -1);
      },
      ...r,
    }),
    sources,
  };
}
