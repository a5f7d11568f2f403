// The hub: every use case, wired over one Store. The HTTP server, CLI (through the client) and
// later MCP are thin faces over this object; none of them holds business rules.
import type { Config } from '../config/keys.js';
import { parseRetention, removesAnything } from '../domain/retention.js';
import type { Store, StoreEvent } from '../store/store.js';
import { HubError } from '../errors.js';
import { RateLimiter } from '../security/rate-limit.js';
import { SharedRateLimiter } from '../security/shared-rate-limit.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { type Actor, SYSTEM_ACTOR } from './actor.js';
import { Agents } from './agents.js';
import { Audit } from './audit.js';
import { Backups } from './backups.js';
import { Auth } from './auth.js';
import { Channels } from './channels.js';
import { Dispatcher } from './dispatch.js';
import { Inbox } from './inbox.js';
import { LoopGuard, type LoopTrip } from './loop-guard.js';
import { Messages } from './messages.js';
import { Onboarding } from './onboarding.js';
import { PresenceTracker } from './presence.js';
import { Keys } from './keys.js';
import { Queue } from './queue.js';
import { Reports } from './reports.js';
import { Settings } from './settings.js';
import { InboxSignals } from './signals.js';
import { Streams } from './streams.js';
import { Tasks } from './tasks.js';
import { Templates } from './templates.js';
import { Retention } from './retention.js';
import { TargetQueue, Targets } from './targets.js';
import { Tokens } from './tokens.js';

export interface HubOptions {
  store: Store;
  config: Config;
  now?: () => number;
  /** Where background failures are reported (the logger). */
  onError?: (e: unknown, what: string) => void;
  metrics?: Metrics;
  /** This swarm's version, written in the manifests of scheduled backups. */
  version?: string;
}

/** How often expired messages and exhausted leases are swept. */
const SWEEP_MS = 1000;
/** On a shared store: how often streams re-check for deliveries an event may not have announced. */
const CATCH_UP_MS = 2000;

export class Hub {
  readonly store: Store;
  readonly config: Config;
  readonly auth: Auth;
  readonly audit: Audit;
  readonly presence: PresenceTracker;
  readonly signals = new InboxSignals();
  readonly agents: Agents;
  readonly messages: Messages;
  readonly inbox: Inbox;
  readonly onboarding: Onboarding;
  readonly dispatcher: Dispatcher;
  readonly streams: Streams;
  readonly queue: Queue;
  readonly settings: Settings;
  readonly keys: Keys;
  readonly channels: Channels;
  readonly templates: Templates;
  readonly tasks: Tasks;
  readonly reports: Reports;
  readonly tokens: Tokens;
  readonly targets: Targets;
  /** For the deliverers (src/delivery/): the targets' queues of pushes. */
  readonly targetQueue: TargetQueue;
  readonly retention: Retention;
  readonly backups: Backups;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly loopGuard: LoopGuard;
  /** Sends per agent (limits.agentRate); charged by the HTTP and WebSocket faces, see `chargeSend`. */
  readonly agentSends: RateLimiter;
  /** The same limit for the hub as a whole, when processes share the store (null otherwise). */
  private readonly hubSends: SharedRateLimiter | null;
  /** Requests without a valid token per client address (limits.addressRate); charged by the server. */
  readonly addressRequests: RateLimiter;
  private sweeper: NodeJS.Timeout | null = null;
  private retainer: NodeJS.Timeout | null = null;
  private backupTimer: NodeJS.Timeout | null = null;
  private readonly version: string;
  private catchUp: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private readonly onError: (e: unknown, what: string) => void;

  constructor(o: HubOptions) {
    this.store = o.store;
    this.config = o.config;
    this.now = o.now ?? Date.now;
    this.onError = o.onError ?? (() => undefined);
    this.metrics = o.metrics ?? createMetrics();
    // Each service is given, at construction, what its acts lead to: the consequences of a send,
    // an ack or a revocation are named in the service's own hooks and wired here, in one place.
    this.audit = new Audit(o.store, this.now, (e) => {
      this.metrics.auditWriteFailures.inc();
      this.onError(e, 'audit');
    });
    this.auth = new Auth(
      o.store,
      this.now,
      () => ({ limit: o.config['auth.failureLimit'], windowMs: o.config['auth.failureWindowSeconds'] * 1000, lockoutMs: o.config['auth.lockoutSeconds'] * 1000 }),
      (e) => this.onError(e, 'token last use'),
      this.audit,
    );
    this.settings = new Settings(o.store, o.config, this.now, () => this.publish({ type: 'settings' }));
    const set = this.settings;
    this.agentSends = new RateLimiter(() => ({ rate: set.get('limits.agentRate'), burst: set.get('limits.agentBurst') }));
    const take = o.store.takeTokens?.bind(o.store);
    this.hubSends = o.store.shared && take !== undefined ? new SharedRateLimiter(() => ({ rate: set.get('limits.agentRate'), burst: set.get('limits.agentBurst') }), take, 'agent-sends') : null;
    this.addressRequests = new RateLimiter(() => ({ rate: set.get('limits.addressRate'), burst: set.get('limits.addressBurst') }));
    this.dispatcher = new Dispatcher(o.store, {
      visibilityMs: () => set.get('delivery.visibilitySeconds') * 1000,
      maxAttempts: () => set.get('delivery.maxAttempts'),
      now: this.now,
      onError: (e) => this.onError(e, 'dispatch'),
      onHandOut: (first, redeliveries) => {
        if (first > 0) this.metrics.handedOut.inc({ attempt: 'first' }, first);
        if (redeliveries > 0) this.metrics.handedOut.inc({ attempt: 'redelivery' }, redeliveries);
      },
    });
    this.signals.listen((ids) => this.dispatcher.notify(ids));
    this.presence = new PresenceTracker(
      o.store,
      () => ({ idleAfterMs: set.get('presence.idleSeconds') * 1000, offlineAfterMs: set.get('presence.offlineSeconds') * 1000 }),
      {
        onChange: (a, at) => this.dispatcher.presence({ type: 'presence', agent: a.id, presence: a.presence, status: a.status, mission: a.mission, at }),
        onLocalChange: () => this.publish({ type: 'presence' }),
      },
      this.now,
    );
    this.streams = new Streams(this.dispatcher, this.presence, () => set.get('streams.prefetch'), () => set.get('limits.streamsPerAgent'), this.now);
    this.agents = new Agents(o.store, this.presence, this.now, (agent, tokenIds) => {
      this.streams.revoke(tokenIds, [agent]);
      this.publish({ type: 'revoked', tokenIds, agents: [agent] });
    });
    this.tokens = new Tokens(o.store, this.now, (tokenIds) => {
      this.streams.revoke(tokenIds);
      this.publish({ type: 'revoked', tokenIds });
    });
    this.channels = new Channels(o.store, this.now);
    this.loopGuard = new LoopGuard(
      () => ({
        rate: set.get('limits.loopRate'),
        windowMs: set.get('limits.loopWindowSeconds') * 1000,
        cooldownMs: set.get('limits.loopCooldownSeconds') * 1000,
      }),
      {
        onTrip: (trip) => {
          this.publish({ type: 'loop', ...trip });
          void this.tellCaptains(trip).catch((e: unknown) => this.onError(e, 'loop guard notice'));
        },
        onRecorded: (from, to) => this.publish({ type: 'edges', edges: [[from, to, 1]] }),
      },
    );
    // Deliveries wait for these agents: this process's long-polls and streams, and the other processes.
    const announce = (agents: string[]): void => {
      this.signals.notify(agents);
      this.publish({ type: 'deliveries', agents });
    };
    this.messages = new Messages(o.store, this.now, { maxRecipients: () => set.get('limits.recipients'), maxFanOut: () => set.get('limits.fanOut') }, this.channels, {
      beforeStore: (actor, recipients) => this.loopGuard.check(actor.self, recipients, this.now()),
      announce,
      onSent: (m, recipients) => {
        this.metrics.messagesSent.inc({ sender: m.sender, type: m.type, kind: m.kind });
        this.metrics.deliveriesCreated.inc(recipients);
      },
    });
    this.templates = new Templates(o.store, this.messages, () => ({ onboarding: set.get('templates.onboarding'), wrapup: set.get('templates.wrapup') }), this.now);
    this.tasks = new Tasks(o.store, this.messages, this.presence, this.now, () => set.get('tasks.claimTimeoutSeconds') * 1000, (event, t) => {
      this.metrics.tasks.inc({ event, agent: t.assignee ?? '' });
      if (event === 'verified' && t.assignee !== null) this.metrics.pointsVerified.inc({ agent: t.assignee }, t.points);
    });
    this.reports = new Reports(this.messages, () => set.get('limits.reportBytes'));
    this.inbox = new Inbox(o.store, this.signals, this.dispatcher, this.now, {
      onAcked: (agent, ids, via) => {
        if (ids.length > 0) this.publish({ type: 'acked', agent, ids });
        this.metrics.acks.inc({ via }, ids.length);
      },
      onNacked: (agent, n) => {
        this.metrics.nacks.inc(n);
        this.publish({ type: 'deliveries', agents: [agent] });
      },
    });
    this.queue = new Queue(o.store, this.dispatcher, this.now, announce);
    this.keys = new Keys(
      o.store,
      this.now,
      () => ({ batch: o.config['security.rotationBatch'], pauseMs: o.config['security.rotationPauseSeconds'] * 1000 }),
      (e) => this.onError(e, 'key rotation'),
      this.audit,
    );
    this.onboarding = new Onboarding(this.agents, this.templates, () => set.get('limits.fanOut'));
    this.targets = new Targets(o.store, this.audit, this.now, () => this.publish({ type: 'targets' }));
    this.targetQueue = new TargetQueue(o.store, this.now);
    this.backups = new Backups(o.store, o.config);
    this.version = o.version ?? '0.0.0';
    if (o.store.backup !== undefined) this.metrics.sources.backupAge = () => this.backups.lastGoodAgeSeconds();
    this.retention = new Retention(
      o.store,
      this.now,
      { rules: () => o.config['retention.messages'], auditDays: () => o.config['retention.auditDays'], batch: () => o.config['retention.batch'], archiveDir: () => o.config['retention.archiveDir'] },
      this.audit,
    );
  }

  /**
   * Charges one send to the sending agent (limits.agentRate). Called where a request asks to send
   * (HTTP, WebSocket), not in Messages.send: a captain's onboarding or wrap-up of many agents is one
   * request, and must not be cut off halfway.
   */
  async chargeSend(actor: Actor): Promise<void> {
    const id = actor.self.id;
    const what = `${id} sends faster than limits.agentRate (${this.settings.get('limits.agentRate')}/s, burst ${this.settings.get('limits.agentBurst')})`;
    if (this.hubSends !== null) await this.hubSends.charge(id, this.now(), what);
    else this.agentSends.charge(id, this.now(), what);
  }

  /** One urgent system message to the captains (or, with none, the admins) about a tripped loop. */
  private async tellCaptains(trip: LoopTrip): Promise<void> {
    const agents = await this.store.listAgents();
    let to = agents.filter((a) => a.role === 'captain').map((a) => a.id);
    if (to.length === 0) to = agents.filter((a) => a.role === 'admin').map((a) => a.id);
    if (to.length === 0) return;
    const names = trip.agents.join(' ⇄ ');
    const until = new Date(trip.until).toISOString();
    await this.messages.send(
      SYSTEM_ACTOR,
      {
        to,
        type: 'system',
        priority: 'urgent',
        subject: `Loop guard: ${trip.agents.join(', ')} throttled`,
        body: `The loop guard stopped a message loop: ${names} sent ${trip.count} messages round a loop within ${trip.windowSeconds} s (limit ${this.settings.get('limits.loopRate')} per ${this.settings.get('limits.loopWindowSeconds')} s, setting limits.loopRate). Sends between them are refused until ${until}. Messages from captains and humans still reach them: tell them to stop replying to each other.`,
        metadata: { loop_guard: { agents: trip.agents, count: trip.count, window_seconds: trip.windowSeconds, until } },
      },
      { hubEvent: true },
    );
  }

  /**
   * Background work: a key rotation left running resumes (keys.ts). `sweeps`: expiry, dead letters and task claims — the embedded hub and
   * `--role worker` run them, and with several workers the one that leads (store.lead). On a
   * shared store, every process listens to the others' events and re-checks its streams
   * periodically in case an event was missed.
   */
  start(o: { sweeps?: boolean } = {}): void {
    this.presence.start();
    this.keys.start();
    void this.presence.check();
    if (o.sweeps !== false) {
      this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
      this.sweeper.unref();
      // Retention (retention.messages): by the process that leads the sweeps.
      if (removesAnything(parseRetention(this.config['retention.messages'])) || this.config['retention.auditDays'] > 0) {
        this.retainer = setInterval(() => void this.retain(), this.config['retention.intervalSeconds'] * 1000);
        this.retainer.unref();
      }
    }
    const every = scheduleMs(this.config['backup.schedule']);
    if (every > 0 && this.store.backup !== undefined) {
      this.backupTimer = setInterval(() => void this.backUp(), every);
      this.backupTimer.unref();
    }
    if (this.store.shared) {
      this.unlisten = this.store.onEvent((e) => this.received(e));
      this.catchUp = setInterval(() => this.dispatcher.notifyAll(), CATCH_UP_MS);
      this.catchUp.unref();
    }
  }

  private received(e: StoreEvent): void {
    switch (e.type) {
      case 'deliveries':
        if (e.agents === '*') {
          this.signals.notifyAll();
          this.dispatcher.notifyAll();
        } else this.signals.notify(e.agents);
        return;
      case 'acked':
        return this.dispatcher.acked(e.agent, e.ids);
      case 'presence':
        return void this.presence.check();
      case 'targets':
        return this.targets.changed();
      case 'settings':
        return void this.settings.load().catch((err: unknown) => this.onError(err, 'settings reload'));
      case 'revoked':
        this.streams.revoke(e.tokenIds, e.agents ?? []);
        return;
      case 'directory':
        return;
      case 'edges':
        for (const [from, to, n] of e.edges) this.loopGuard.observe(from, to, n, this.now());
        return;
      case 'loop':
        return this.loopGuard.hold({ agents: e.agents, count: e.count, windowSeconds: e.windowSeconds, until: e.until });
      case 'resync':
        void this.recheckTokens();
        this.signals.notifyAll();
        this.dispatcher.notifyAll();
        void this.presence.check();
        void this.settings.load().catch((err: unknown) => this.onError(err, 'settings reload'));
    }
  }

  /** After missed events: ends streams whose token was revoked (or whose agent was removed) meanwhile. */
  private async recheckTokens(): Promise<void> {
    try {
      const dead: string[] = [];
      for (const id of this.streams.tokenIds()) {
        const t = await this.store.getToken(id);
        if (t === null || t.revokedAt !== null || (await this.store.getAgent(t.agentId)) === null) dead.push(id);
      }
      if (dead.length > 0) this.streams.revoke(dead);
    } catch (e) {
      this.onError(e, 'token recheck');
    }
  }

  private publish(e: StoreEvent): void {
    if (this.store.shared) void this.store.publish(e).catch((err: unknown) => this.onError(err, 'publish'));
  }

  /**
   * Expires messages past their expiry, dead-letters leases that ran out of attempts, ends silent
   * claims: in the one process that leads the sweeps (any number of workers may run).
   */
  private async retain(): Promise<void> {
    try {
      if (!(await this.store.lead('sweeper'))) return;
      await this.retention.run({ dryRun: false });
    } catch (e) {
      this.onError(e, 'retention');
    }
  }

  private backingUp = false;

  /** backup.schedule: one at a time; a failure is logged (and the age gauge keeps growing). */
  private async backUp(): Promise<void> {
    if (this.backingUp) return;
    this.backingUp = true;
    try {
      await this.backups.scheduled(this.version);
    } catch (e) {
      this.onError(e, 'scheduled backup');
    } finally {
      this.backingUp = false;
    }
  }

  async sweep(): Promise<void> {
    try {
      if (!(await this.store.lead('sweeper'))) return;
      await this.store.sweep(this.now(), this.settings.get('delivery.maxAttempts'));
      await this.tasks.expireClaims();
    } catch (e) {
      this.onError(e, 'sweep');
    }
  }

  /** Reads the per-agent queue numbers into the gauges (at scrape time: it scans deliveries). */
  async refreshQueueMetrics(): Promise<void> {
    const m = this.metrics;
    for (const g of [m.queueDepth, m.inFlight, m.deadLetters, m.redeliveries]) g.reset();
    for (const s of await this.store.queueStats(this.now())) {
      m.queueDepth.set({ agent: s.agent }, s.depth);
      m.inFlight.set({ agent: s.agent }, s.inFlight);
      m.deadLetters.set({ agent: s.agent }, s.dead);
      m.redeliveries.set({ agent: s.agent }, s.redeliveries);
    }
  }

  /** What /readyz reports: throws `store_unavailable` when the store does not answer or its schema is older than this code. */
  async readiness(): Promise<{ store: string; schema: number }> {
    try {
      await this.store.ping();
    } catch (e) {
      // A disk that fails writes is said as such (the embedded store, until a write succeeds).
      if (e instanceof HubError && e.code === 'storage_io_error') throw e;
      throw new HubError('store_unavailable', `store not reachable: ${(e as Error).message}`, { cause: e });
    }
    const schema = await this.store.schema();
    // Unready only when the schema is behind this code. A schema ahead of it is what the next
    // version's first process leaves during a rolling upgrade: backward-compatible by the
    // one-version rule (docs/deployment.md, Upgrades and rollback), so this process keeps serving,
    // and taking it out of rotation would leave no process ready until the new ones are.
    if (schema.current < schema.latest) throw new HubError('store_unavailable', `store schema at ${schema.current}, expected ${schema.latest}`);
    return { store: this.store.kind, schema: schema.current };
  }

  /** Ends streams and long-polls; the caller then closes the server and the store. */
  closeStreams(): void {
    this.signals.close();
    this.dispatcher.close(new HubError('shutting_down', 'the hub is shutting down'));
  }

  async stop(): Promise<void> {
    this.closeStreams();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    if (this.retainer !== null) clearInterval(this.retainer);
    if (this.backupTimer !== null) clearInterval(this.backupTimer);
    if (this.catchUp !== null) clearInterval(this.catchUp);
    this.sweeper = null;
    this.catchUp = null;
    this.unlisten?.();
    this.settings.stop();
    await this.keys.stop();
    await this.presence.stop();
    await this.auth.stop();
  }
}

// The admin token the hub mints for itself at start (onboarding.ts).
/** `30m`, `6h`, `1d` (or seconds, `90s`) in milliseconds; 0 for '' (off). */
export function scheduleMs(v: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (m === null) return 0;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export { ADMIN_ID, ADMIN_TOKEN_FILE, ensureAdminToken } from './onboarding.js';
