// Every setting Swarm reads, in one table: key, schema, default, environment variable, and what it
// does. The README's config reference and `swarm config show` are rendered from this table, so a
// setting that is documented is a setting that is read.
// zod/mini, not zod: the CLI validates its configuration on every call, and the full build (454 KB
// with every locale) cost a CLI call ~60 ms of Node's start-up (docs/benchmarks.md, "CLI start-up").
// The English messages are the same as the full build's.
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { parseRetention } from '../domain/retention.js';

z.config(en());


/** A number (a string from the environment or a flag is converted) in [min, max]. */
const number = (min: number, max: number) => z.coerce.number().check(z.minimum(min), z.maximum(max));
/** A whole number of at least 1 (and at most max). */
const positiveInt = (max?: number) => z.coerce.number().check(z.int(), z.minimum(1), ...(max === undefined ? [] : [z.maximum(max)]));
const port = z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535));
/** Per second; 0 turns the limit off. */
const rate = number(0, 1_000_000);
const bool = z.pipe(
  z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]),
  z.transform((v) => v === true || v === 'true' || v === '1' || v === 'yes'),
);
/** A string of at most max characters (and at least min). */
const text = (min: number, max?: number) => z.string().check(z.minLength(min), ...(max === undefined ? [] : [z.maxLength(max)]));

export const CONFIG_KEYS = {
  'hub.url': {
    schema: z.string().check(z.url(), z.refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')),
    default: 'http://127.0.0.1:8080',
    env: 'SWARM_HUB',
    doc: 'Hub the CLI talks to (CLI flag --hub).',
  },
  'cli.as': {
    schema: text(0, 80),
    default: '',
    env: 'SWARM_AS',
    doc: 'Agent the CLI acts for (--as); only an admin or captain token may act for another agent.',
  },
  'cli.token': {
    schema: text(0, 200),
    default: '',
    env: 'SWARM_TOKEN',
    doc: 'Bearer token the CLI sends (--token). Empty: use <data.dir>/admin.token when it is readable.',
    secret: true,
  },
  'cli.ca': {
    schema: z.string(),
    default: '',
    env: 'SWARM_CA',
    doc: 'PEM file of the CA the CLI trusts for an https:// hub (--ca), besides the system CAs (e.g. a development certificate).',
  },
  'server.host': {
    schema: text(1),
    default: '127.0.0.1',
    env: 'SWARM_HOST',
    doc: 'Address `swarm serve` binds (--host). Use 0.0.0.0 in a container.',
  },
  'server.tlsCert': {
    schema: z.string(),
    default: '',
    env: 'SWARM_TLS_CERT',
    doc: 'PEM certificate (chain) file: with server.tlsKey, the hub serves HTTPS and WSS (--tls-cert).',
  },
  'server.tlsKey': {
    schema: z.string(),
    default: '',
    env: 'SWARM_TLS_KEY',
    doc: 'PEM private key file for server.tlsCert (--tls-key).',
  },
  'server.port': { schema: port, default: 8080, env: 'SWARM_PORT', doc: 'Port `swarm serve` listens on (--port); 0 picks a free one.' },
  'data.dir': {
    schema: text(1),
    default: './.swarm',
    env: 'SWARM_DATA',
    doc: 'Directory of the embedded store and the admin token (--data).',
  },
  'store.database': {
    schema: z.string(),
    default: '',
    env: 'SWARM_DATABASE',
    doc: 'Database URL (--database). Empty: embedded SQLite in data.dir (or sqlite:DIR); postgres://user:password@host:port/db for PostgreSQL, which several hub processes can share.',
    secret: true,
  },
  'store.poolSize': {
    schema: positiveInt(1000),
    default: 10,
    env: 'SWARM_POOL_SIZE',
    doc: 'PostgreSQL: most connections this process opens (a pooler in front is advised for many processes).',
  },
  'store.sessionDatabase': {
    schema: z.string().check(z.regex(/^(postgres(ql)?:\/\/.*)?$/, 'a postgres:// URL')),
    default: '',
    env: 'SWARM_SESSION_DATABASE',
    doc: 'PostgreSQL: where the LISTEN connection (and the worker’s sweep lock) go when store.database is a transaction-mode pooler such as PgBouncer, which cannot keep them: straight to the server. Empty: store.database.',
    secret: true,
  },
  'store.prepare': {
    schema: bool,
    default: true,
    env: 'SWARM_DB_PREPARE',
    doc: 'PostgreSQL: named prepared statements, parsed once per connection. Set false behind PgBouncer in transaction mode (1.18 keeps none across transactions).',
  },
  'store.schema': {
    schema: z.string().check(z.regex(/^([a-z_][a-z0-9_]{0,62})?$/, 'a lower-case schema name')),
    default: '',
    env: 'SWARM_DB_SCHEMA',
    doc: 'PostgreSQL: the schema the hub’s tables live in (created when missing). Empty: the connection’s current schema at start.',
  },
  'store.synchronous': {
    schema: z.enum(['full', 'normal']),
    default: 'full' as 'full' | 'normal',
    env: 'SWARM_SYNCHRONOUS',
    doc: 'SQLite durability: `full` fsyncs every commit (survives power loss); `normal` survives a process crash but may lose the last commits on power loss.',
  },
  'store.batchMax': {
    schema: positiveInt(10000),
    default: 512,
    env: 'SWARM_BATCH_MAX',
    doc: 'Most sends, or most acks, one group commit holds; more wait for the next commit.',
  },
  'store.walLimitMiB': {
    schema: positiveInt(1024 * 1024),
    default: 256,
    env: 'SWARM_WAL_LIMIT_MIB',
    doc: 'SQLite: the `-wal` file stays under this size under sustained load: past half of it, the writer waits for a checkpoint that lets the WAL start over (back-pressure on sends); once writes stop it is truncated to zero. Gauge: swarm_store_wal_bytes.',
  },
  'store.queueMax': {
    schema: positiveInt(1_000_000),
    default: 4096,
    env: 'SWARM_QUEUE_MAX',
    doc: 'Most sends, and most acks, waiting in this process for the store to commit them; beyond, the hub answers 503 overloaded with Retry-After (a WebSocket frame gets an error frame) instead of queueing without bound.',
  },
  'security.encryptionKey': {
    schema: text(0, 4096),
    default: '',
    env: 'SWARM_ENCRYPTION_KEY',
    doc: 'Encrypt message subjects, bodies and metadata at rest (AES-256-GCM): 32 bytes as base64 (`openssl rand -base64 32`), hex:…, or file:PATH. Empty: stored in the clear. Once set, the hub refuses to start without it.',
    secret: true,
  },
  'security.previousKeys': {
    schema: text(0, 65536),
    default: '',
    env: 'SWARM_PREVIOUS_KEYS',
    doc: 'Comma list of older keys (same forms), still able to decrypt what they wrote, e.g. during or after a `swarm keys rotate`.',
    secret: true,
  },
  'security.rotationBatch': {
    schema: positiveInt(10_000),
    default: 500,
    env: 'SWARM_ROTATION_BATCH',
    doc: 'Key rotation: messages re-encrypted per transaction (each batch commits with the rotation’s progress).',
  },
  'security.rotationPauseSeconds': {
    schema: number(0, 60),
    default: 0.01,
    env: 'SWARM_ROTATION_PAUSE',
    doc: 'Key rotation: pause between batches, leaving the store to sends and acks.',
  },
  'presence.idleSeconds': { shared: true, schema: positiveInt(), default: 300, env: 'SWARM_IDLE_SECONDS', doc: 'Silence after which an agent shows as idle.' },
  'presence.offlineSeconds': { shared: true,
    schema: positiveInt(),
    default: 900,
    env: 'SWARM_OFFLINE_SECONDS',
    doc: 'Silence after which an agent shows as offline.',
  },
  'limits.bodyBytes': {
    schema: positiveInt(64 * 1024 * 1024),
    default: 1024 * 1024,
    env: 'SWARM_BODY_LIMIT',
    doc: 'Largest request body the hub accepts, in bytes (413 beyond).',
  },
  'limits.recipients': { shared: true, schema: positiveInt(100000), default: 1000, env: 'SWARM_MAX_RECIPIENTS', doc: 'Most addresses one message may name.' },
  'limits.fanOut': { shared: true,
    schema: positiveInt(1_000_000),
    default: 10_000,
    env: 'SWARM_MAX_FAN_OUT',
    doc: 'Most agents one message may reach once `all` and #channels are expanded; beyond, the send is refused (422 too_many_recipients) and nothing is stored.',
  },
  'limits.waitSeconds': { shared: true, schema: positiveInt(3600), default: 300, env: 'SWARM_MAX_WAIT', doc: 'Longest inbox long-poll (`inbox --wait`) the hub holds open.' },
  'limits.agentRate': { shared: true,
    schema: rate,
    default: 20,
    env: 'SWARM_AGENT_RATE',
    doc: 'Sends per second one agent may make (POST /v1/messages, POST /v1/reports, WebSocket send frames), refilled continuously, counted for the whole hub (on PostgreSQL, across every api process); beyond, 429 rate_limited with Retry-After. 0 turns the limit off.',
  },
  'limits.agentBurst': { shared: true, schema: positiveInt(1_000_000), default: 100, env: 'SWARM_AGENT_BURST', doc: 'Sends one agent may make at once before limits.agentRate applies.' },
  'limits.addressRate': { shared: true,
    schema: rate,
    default: 20,
    env: 'SWARM_ADDRESS_RATE',
    doc: 'Requests per second from one client address that carry no valid token (failed authentication, /healthz, /metrics, unknown routes), counted per hub process; beyond, 429 rate_limited. 0 turns the limit off.',
  },
  'limits.addressBurst': { shared: true, schema: positiveInt(1_000_000), default: 200, env: 'SWARM_ADDRESS_BURST', doc: 'Such requests one address may make at once before limits.addressRate applies.' },
  'limits.streamsPerAgent': { shared: true,
    schema: positiveInt(10_000),
    default: 10,
    env: 'SWARM_MAX_STREAMS',
    doc: 'Most WebSocket and SSE streams one agent holds open on one hub process; the next is refused with 429 too_many_streams.',
  },
  'limits.loopRate': { shared: true,
    schema: positiveInt(1_000_000),
    default: 30,
    env: 'SWARM_LOOP_RATE',
    doc: 'Loop guard: messages that may go round a loop of two or three agents (A→B→A, A→B→C→A) within limits.loopWindowSeconds; beyond, sends between them are refused (429 rate_limited) for limits.loopCooldownSeconds and the captains get one urgent system message. Captains, admins and human: agents are exempt.',
  },
  'limits.loopWindowSeconds': { shared: true, schema: positiveInt(3600), default: 60, env: 'SWARM_LOOP_WINDOW', doc: 'Loop guard: the sliding window the loop’s messages are counted in.' },
  'limits.loopCooldownSeconds': { shared: true,
    schema: positiveInt(86_400),
    default: 300,
    env: 'SWARM_LOOP_COOLDOWN',
    doc: 'Loop guard: how long sends between the agents of a tripped loop stay refused.',
  },
  'limits.requestSeconds': {
    schema: positiveInt(3600),
    default: 30,
    env: 'SWARM_REQUEST_TIMEOUT',
    doc: 'Time a client has to send a whole request (headers and body; headers alone: at most 10 s) before the hub answers 408 and closes the connection. Long-polls and streams are not cut: the limit covers receiving the request, not answering it.',
  },
  'limits.keepAliveSeconds': {
    schema: positiveInt(3600),
    default: 72,
    env: 'SWARM_KEEPALIVE_TIMEOUT',
    doc: 'How long an idle keep-alive connection stays open between requests (above the 60 s idle timeout of common load balancers).',
  },
  'delivery.visibilitySeconds': { shared: true,
    schema: number(0.1, 86400),
    default: 30,
    env: 'SWARM_VISIBILITY_SECONDS',
    doc: 'How long a delivery handed to a stream consumer stays leased; unacknowledged, it is then delivered again.',
  },
  'delivery.maxAttempts': { shared: true,
    schema: positiveInt(1000),
    default: 5,
    env: 'SWARM_MAX_ATTEMPTS',
    doc: 'Deliveries of one message to one consumer before it goes to the dead letters; also pushes of one message to one delivery target before the push is dead.',
  },
  'targets.deliver': {
    schema: bool,
    default: true,
    env: 'SWARM_TARGETS_DELIVER',
    doc: 'Whether this process pushes to delivery targets (`swarm targets`): the embedded hub and `--role worker` do unless this is false.',
  },
  'targets.leaseSeconds': {
    schema: positiveInt(3600),
    default: 60,
    env: 'SWARM_TARGETS_LEASE_SECONDS',
    doc: 'How long a worker holds a push before another may take it (a worker that dies returns its pushes after this).',
  },
  'targets.concurrency': {
    schema: positiveInt(64),
    default: 16,
    env: 'SWARM_TARGETS_CONCURRENCY',
    doc: 'Pushes in flight per target in one process (command targets: at most 4 programs at once; tmux targets: one at a time).',
  },
  'targets.backoffSeconds': {
    schema: number(0.01, 3600),
    default: 1,
    env: 'SWARM_TARGETS_BACKOFF_SECONDS',
    doc: 'First retry delay after a failed push; doubled on each attempt (with jitter) up to targets.backoffMaxSeconds. A Retry-After answer is honoured.',
  },
  'targets.backoffMaxSeconds': {
    schema: number(0.01, 86400),
    default: 300,
    env: 'SWARM_TARGETS_BACKOFF_MAX_SECONDS',
    doc: 'Longest retry delay after a failed push.',
  },
  'targets.breakerFailures': {
    schema: positiveInt(1000),
    default: 5,
    env: 'SWARM_TARGETS_BREAKER_FAILURES',
    doc: 'Failed pushes in a row after which a target’s circuit breaker opens: no pushes until targets.breakerSeconds have passed, then one probe.',
  },
  'targets.breakerSeconds': {
    schema: number(0.01, 86400),
    default: 30,
    env: 'SWARM_TARGETS_BREAKER_SECONDS',
    doc: 'How long an open breaker waits before its probe.',
  },
  'retention.messages': {
    schema: z.string().check(
      z.maxLength(4000),
      z.refine((v) => {
        try {
          parseRetention(v);
          return true;
        } catch {
          return false;
        }
      }, 'SELECTOR=DAYS rules separated by commas: * (every message), a message type (report) or a #channel, and days or forever, e.g. *=90,report=365,#decisions=forever'),
    ),
    default: '',
    env: 'SWARM_RETENTION_MESSAGES',
    doc: 'How long acknowledged messages are kept: `*=90,report=365,#ops=30,#decisions=forever` (a channel rule wins over a type rule, which wins over `*`). Empty: kept forever. Removed by the worker (or the embedded hub) every retention.intervalSeconds; `swarm retention run --dry-run` shows what would go.',
  },
  'retention.auditDays': {
    schema: z.coerce.number().check(z.int(), z.minimum(0), z.maximum(36_500)),
    default: 0,
    env: 'SWARM_RETENTION_AUDIT_DAYS',
    doc: 'Days audit records are kept; 0: forever. Older ones are removed with retention, the last one removed kept as the checkpoint `swarm audit verify` proves the rest from.',
  },
  'retention.intervalSeconds': {
    schema: positiveInt(7 * 86400),
    default: 3600,
    env: 'SWARM_RETENTION_INTERVAL_SECONDS',
    doc: 'How often retention runs in the worker (or the embedded hub).',
  },
  'retention.batch': {
    schema: positiveInt(100_000),
    default: 50,
    env: 'SWARM_RETENTION_BATCH',
    doc: 'Messages (or audit records) removed per transaction; after each batch retention pauses twenty times as long as the batch took (at least 20 ms), so that sends go on.',
  },
  'retention.archiveDir': {
    schema: z.string().check(z.maxLength(1000)),
    default: '',
    env: 'SWARM_RETENTION_ARCHIVE_DIR',
    doc: 'Directory where removed messages are first appended, as stored (sealed content stays sealed), to `messages-YYYY-MM-DD.ndjson`. Empty: removed without an archive.',
  },
  'backup.schedule': {
    schema: z.string().check(z.regex(/^(\d{1,5}[smhd])?$/, 'an interval: 30m, 6h, 1d (empty: off)')),
    default: '',
    env: 'SWARM_BACKUP_SCHEDULE',
    doc: 'Embedded hub: take a backup into <data.dir>/backups this often (`6h`, `1d`), verify it, and keep the newest backup.keep. Empty: only `swarm backup create`. Gauge: `swarm_backup_last_good_age_seconds`.',
  },
  'backup.keep': {
    schema: positiveInt(1000),
    default: 7,
    env: 'SWARM_BACKUP_KEEP',
    doc: 'Backups kept in <data.dir>/backups after a scheduled one verified (older ones removed; the newest verified one never).',
  },
  'streams.prefetch': { shared: true,
    schema: positiveInt(10000),
    default: 100,
    env: 'SWARM_PREFETCH',
    doc: 'Most unacknowledged deliveries one stream holds at a time (a client may ask for fewer).',
  },
  'streams.maxBufferedBytes': {
    schema: positiveInt(1024 * 1024 * 1024),
    default: 8 * 1024 * 1024,
    env: 'SWARM_STREAM_BUFFER',
    doc: 'Bytes queued for a stream client that does not read before the hub closes it (WebSocket code 4008, SSE event close).',
  },
  'streams.maxPendingFrames': {
    schema: positiveInt(1_000_000),
    default: 1000,
    env: 'SWARM_STREAM_PENDING_FRAMES',
    doc: 'Frames a WebSocket client may have sent that the hub has not answered yet (pipelined: sends and acks share commits, answers come back in frame order); beyond, the hub closes the socket (code 4013, reason overloaded).',
  },
  'streams.heartbeatSeconds': {
    schema: positiveInt(3600),
    default: 15,
    env: 'SWARM_HEARTBEAT_SECONDS',
    doc: 'Interval of WebSocket pings and SSE keep-alive comments.',
  },
  'shutdown.graceSeconds': {
    schema: number(0, 3600),
    default: 10,
    env: 'SWARM_GRACE_SECONDS',
    doc: 'On SIGTERM: time to close streams, finish requests and commit before the hub gives up and exits non-zero.',
  },
  'shutdown.drainSeconds': {
    schema: number(0, 3600),
    default: 0,
    env: 'SWARM_DRAIN_SECONDS',
    doc: 'On SIGTERM, first: time during which /readyz answers 503 while requests are still served, so that a load balancer takes the process out of its rotation before it stops accepting connections. Behind a balancer, set it above its check interval × failures to mark down. Counts within shutdown.graceSeconds.',
  },
  'tasks.claimTimeoutSeconds': { shared: true,
    schema: positiveInt(30 * 86400),
    default: 1800,
    env: 'SWARM_CLAIM_TIMEOUT_SECONDS',
    doc: 'Silence of a task’s assignee after which its claim ends: the task returns to the board and captains are told.',
  },
  'limits.reportBytes': { shared: true,
    schema: positiveInt(64 * 1024 * 1024),
    default: 512 * 1024,
    env: 'SWARM_REPORT_LIMIT',
    doc: 'Largest report body (`swarm report post`), in bytes.',
  },
  'log.level': {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info' as string,
    env: 'SWARM_LOG_LEVEL',
    doc: 'Hub log level (JSON lines on stdout).',
  },
  'log.requests': { schema: bool, default: false, env: 'SWARM_LOG_REQUESTS', doc: 'Log every HTTP request (costly under load).' },
  'templates.onboarding': { shared: true,
    schema: text(1, 20000),
    default:
      'Welcome to the swarm, {agent_id}. Your role is {role}. Check your inbox with `swarm inbox`, acknowledge with `swarm ack ID`, and keep your status current with `swarm status set online "MISSION"`.',
    env: 'SWARM_TEMPLATE_ONBOARDING',
    doc: 'Onboarding message, unless a template named onboarding is saved (`swarm template set`); placeholders {agent_id}, {role}, {specialty}, {mission}, {sender}, {date}.',
  },
  'templates.wrapup': { shared: true,
    schema: text(1, 20000),
    default: 'End of cycle, {agent_id}: commit your work, post a short report of what you did and what is left, and set your status.',
    env: 'SWARM_TEMPLATE_WRAPUP',
    doc: 'Wrap-up message, unless a template named wrapup is saved; same placeholders.',
  },
  'auth.failureLimit': {
    schema: positiveInt(1_000_000),
    default: 10,
    env: 'SWARM_AUTH_FAILURES',
    doc: 'Failed authentications from one address within auth.failureWindowSeconds after which it is locked out (429 rate_limited), even with a valid token.',
  },
  'auth.failureWindowSeconds': {
    schema: positiveInt(86400),
    default: 60,
    env: 'SWARM_AUTH_WINDOW_SECONDS',
    doc: 'Window in which failed authentications from one address are counted.',
  },
  'auth.lockoutSeconds': {
    schema: positiveInt(86400),
    default: 60,
    env: 'SWARM_AUTH_LOCKOUT_SECONDS',
    doc: 'How long an address stays locked out after too many failed authentications.',
  },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/**
 * Settings the hub holds and versions (`swarm config set|history|rollback`), applied live in every
 * process. The others are a process's own (ports, paths, database, logging) and come only from
 * the file, the environment and flags.
 */
export const SHARED_KEYS = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => (CONFIG_KEYS[k] as { shared?: boolean }).shared === true);
export type SharedKey =
  | 'presence.idleSeconds'
  | 'presence.offlineSeconds'
  | 'limits.recipients'
  | 'limits.fanOut'
  | 'limits.waitSeconds'
  | 'limits.agentRate'
  | 'limits.agentBurst'
  | 'limits.addressRate'
  | 'limits.addressBurst'
  | 'limits.streamsPerAgent'
  | 'limits.loopRate'
  | 'limits.loopWindowSeconds'
  | 'limits.loopCooldownSeconds'
  | 'delivery.visibilitySeconds'
  | 'delivery.maxAttempts'
  | 'streams.prefetch'
  | 'tasks.claimTimeoutSeconds'
  | 'limits.reportBytes'
  | 'templates.onboarding'
  | 'templates.wrapup';
export type Config = { [K in ConfigKey]: z.output<(typeof CONFIG_KEYS)[K]['schema']> };

