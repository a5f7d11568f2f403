// Every setting Swarm reads, in one table: key, schema, default, environment variable, and what it
// does. The README's config reference and `swarm config show` are rendered from this table, so a
// setting that is documented is a setting that is read.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

export const CONFIG_KEYS = {
  'hub.url': {
    schema: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL'),
    default: 'http://127.0.0.1:8080',
    env: 'SWARM_HUB',
    doc: 'Hub the CLI talks to (CLI flag --hub).',
  },
  'cli.as': {
    schema: z.string().max(80),
    default: '',
    env: 'SWARM_AS',
    doc: 'Agent the CLI acts for (--as); only an admin or captain token may act for another agent.',
  },
  'cli.token': {
    schema: z.string().max(200),
    default: '',
    env: 'SWARM_TOKEN',
    doc: 'Bearer token the CLI sends (--token). Empty: use <data.dir>/admin.token when it is readable.',
    secret: true,
  },
  'server.host': {
    schema: z.string().min(1),
    default: '127.0.0.1',
    env: 'SWARM_HOST',
    doc: 'Address `swarm serve` binds (--host). Use 0.0.0.0 in a container.',
  },
  'server.port': { schema: port, default: 8080, env: 'SWARM_PORT', doc: 'Port `swarm serve` listens on (--port); 0 picks a free one.' },
  'data.dir': {
    schema: z.string().min(1),
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
    schema: positiveInt.max(1000),
    default: 10,
    env: 'SWARM_POOL_SIZE',
    doc: 'PostgreSQL: most connections this process opens (a pooler in front is advised for many processes).',
  },
  'store.schema': {
    schema: z.string().regex(/^([a-z_][a-z0-9_]{0,62})?$/, 'a lower-case schema name'),
    default: '',
    env: 'SWARM_DB_SCHEMA',
    doc: 'PostgreSQL: the schema the hub’s tables live in (created when missing). Empty: the connection’s search_path.',
  },
  'store.synchronous': {
    schema: z.enum(['full', 'normal']),
    default: 'full' as 'full' | 'normal',
    env: 'SWARM_SYNCHRONOUS',
    doc: 'SQLite durability: `full` fsyncs every commit (survives power loss); `normal` survives a process crash but may lose the last commits on power loss.',
  },
  'store.batchMax': {
    schema: positiveInt.max(10000),
    default: 512,
    env: 'SWARM_BATCH_MAX',
    doc: 'Most sends one group commit holds; more wait for the next commit.',
  },
  'presence.idleSeconds': { shared: true, schema: positiveInt, default: 300, env: 'SWARM_IDLE_SECONDS', doc: 'Silence after which an agent shows as idle.' },
  'presence.offlineSeconds': { shared: true,
    schema: positiveInt,
    default: 900,
    env: 'SWARM_OFFLINE_SECONDS',
    doc: 'Silence after which an agent shows as offline.',
  },
  'limits.bodyBytes': {
    schema: positiveInt.max(64 * 1024 * 1024),
    default: 1024 * 1024,
    env: 'SWARM_BODY_LIMIT',
    doc: 'Largest request body the hub accepts, in bytes (413 beyond).',
  },
  'limits.recipients': { shared: true, schema: positiveInt.max(100000), default: 1000, env: 'SWARM_MAX_RECIPIENTS', doc: 'Most addresses one message may name.' },
  'limits.waitSeconds': { shared: true, schema: positiveInt.max(3600), default: 300, env: 'SWARM_MAX_WAIT', doc: 'Longest inbox long-poll (`inbox --wait`) the hub holds open.' },
  'delivery.visibilitySeconds': { shared: true,
    schema: z.coerce.number().min(0.1).max(86400),
    default: 30,
    env: 'SWARM_VISIBILITY_SECONDS',
    doc: 'How long a delivery handed to a stream consumer stays leased; unacknowledged, it is then delivered again.',
  },
  'delivery.maxAttempts': { shared: true,
    schema: positiveInt.max(1000),
    default: 5,
    env: 'SWARM_MAX_ATTEMPTS',
    doc: 'Deliveries of one message to one consumer before it goes to the dead letters.',
  },
  'streams.prefetch': { shared: true,
    schema: positiveInt.max(10000),
    default: 100,
    env: 'SWARM_PREFETCH',
    doc: 'Most unacknowledged deliveries one stream holds at a time (a client may ask for fewer).',
  },
  'streams.maxBufferedBytes': {
    schema: positiveInt.max(1024 * 1024 * 1024),
    default: 8 * 1024 * 1024,
    env: 'SWARM_STREAM_BUFFER',
    doc: 'Bytes queued for a stream client that does not read before the hub closes it (WebSocket code 4008, SSE event close).',
  },
  'streams.heartbeatSeconds': {
    schema: positiveInt.max(3600),
    default: 15,
    env: 'SWARM_HEARTBEAT_SECONDS',
    doc: 'Interval of WebSocket pings and SSE keep-alive comments.',
  },
  'shutdown.graceSeconds': {
    schema: z.coerce.number().min(0).max(3600),
    default: 10,
    env: 'SWARM_GRACE_SECONDS',
    doc: 'On SIGTERM: time to close streams, finish requests and commit before the hub gives up and exits non-zero.',
  },
  'tasks.claimTimeoutSeconds': { shared: true,
    schema: positiveInt.max(30 * 86400),
    default: 1800,
    env: 'SWARM_CLAIM_TIMEOUT_SECONDS',
    doc: 'Silence of a task’s assignee after which its claim ends: the task returns to the board and captains are told.',
  },
  'limits.reportBytes': { shared: true,
    schema: positiveInt.max(64 * 1024 * 1024),
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
    schema: z.string().min(1).max(20000),
    default:
      'Welcome to the swarm, {agent_id}. Your role is {role}. Check your inbox with `swarm inbox`, acknowledge with `swarm ack ID`, and keep your status current with `swarm status set online "MISSION"`.',
    env: 'SWARM_TEMPLATE_ONBOARDING',
    doc: 'Onboarding message, unless a template named onboarding is saved (`swarm template set`); placeholders {agent_id}, {role}, {specialty}, {mission}, {sender}, {date}.',
  },
  'templates.wrapup': { shared: true,
    schema: z.string().min(1).max(20000),
    default: 'End of cycle, {agent_id}: commit your work, post a short report of what you did and what is left, and set your status.',
    env: 'SWARM_TEMPLATE_WRAPUP',
    doc: 'Wrap-up message, unless a template named wrapup is saved; same placeholders.',
  },
  'auth.failureLimit': {
    schema: positiveInt.max(1_000_000),
    default: 10,
    env: 'SWARM_AUTH_FAILURES',
    doc: 'Failed authentications from one address within auth.failureWindowSeconds after which it is locked out (429 rate_limited), even with a valid token.',
  },
  'auth.failureWindowSeconds': {
    schema: positiveInt.max(86400),
    default: 60,
    env: 'SWARM_AUTH_WINDOW_SECONDS',
    doc: 'Window in which failed authentications from one address are counted.',
  },
  'auth.lockoutSeconds': {
    schema: positiveInt.max(86400),
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
  | 'limits.waitSeconds'
  | 'delivery.visibilitySeconds'
  | 'delivery.maxAttempts'
  | 'streams.prefetch'
  | 'tasks.claimTimeoutSeconds'
  | 'limits.reportBytes'
  | 'templates.onboarding'
  | 'templates.wrapup';
export type Config = { [K in ConfigKey]: z.output<(typeof CONFIG_KEYS)[K]['schema']> };

