// The deliverers' loop, run by the embedded hub and by `--role worker`: for every delivery target,
// lease its due pushes (competing with the other workers: a push is held by one at a time, and a
// worker that dies returns its pushes when their lease runs out), push each with the target's
// deliverer, and settle it: done, retried later (exponential backoff with jitter, or the target's
// Retry-After), or dead after delivery.maxAttempts or a failure that retrying cannot help. A circuit
// breaker per target stops pushes after targets.breakerFailures failures in a row, then lets one
// probe through after targets.breakerSeconds.
//
// Sends wake the target's loop at once (the hub's signals, local or from other processes); a slow
// tick catches leases that ran out and retries scheduled by other workers.
import { randomUUID } from 'node:crypto';
import type { BreakerState, TargetSettings } from '../domain/target.js';
import { SYSTEM_ACTOR } from '../hub/actor.js';
import type { Hub } from '../hub/hub.js';
import type { TargetLease, TargetRecord } from '../hub/targets.js';
import { deliver, type Outcome, type TargetConfig } from './deliverer.js';
import { writeStatus } from './file.js';

/** Re-reads the targets (and status.json mirrors) this often. */
const TICK_MS = 2000;
/**
 * Looks at a quiet target's queue at least this often: for pushes whose lease ran out in a worker
 * that died, and retries another worker scheduled. Sends wake a target at once (the hub's signals),
 * and this process's own retries and breakers set timers.
 */
const SWEEP_MS = 10_000;
/** Programs a command target runs at once in one process, whatever targets.concurrency says. */
const COMMAND_CONCURRENCY = 4;
/** On stop: how long pushes under way may take to finish before their leases are left to run out. */
const STOP_GRACE_MS = 5000;

interface Pump {
  target: TargetRecord;
  config: TargetConfig;
  inflight: number;
  /** A pass is scheduled or running. */
  busy: boolean;
  /** Another pass is wanted once this one ends. */
  again: boolean;
  failures: number;
  breaker: BreakerState;
  timer: NodeJS.Timeout | null;
  /** status.json as last written (file targets with statusMirror). */
  mirrored: string;
  /** When its queue was last looked at (a lease asked for). */
  polled: number;
}

/** What the deliverer is given for a target: its settings, and a webhook's secret. */
export function configOf(t: Pick<TargetRecord, 'settings' | 'secret'>): TargetConfig {
  const s: TargetSettings = t.settings;
  return s.kind === 'webhook' ? { ...s, secret: t.secret } : s;
}

export class TargetRunner {
  /** This process as a lease owner. */
  readonly owner = `deliverer-${randomUUID()}`;
  private readonly pumps = new Map<string, Pump>();
  private readonly pending = new Set<Promise<void>>();
  private tick: NodeJS.Timeout | null = null;
  private stopped = false;
  private loading: Promise<void> | null = null;
  private reloadWanted = false;
  /** The next reload looks at every queue, not only the quiet ones' (targets changed). */
  private pollAll = false;

  constructor(
    private readonly hub: Hub,
    private readonly onError: (e: unknown, what: string) => void,
  ) {}

  start(): void {
    // Added, removed or retried: every queue is looked at.
    this.hub.targets.listen(() => void this.reload(true));
    this.hub.signals.listen((agents) => this.wake(agents));
    this.tick = setInterval(() => {
      void this.reload();
      void this.mirrorStatus();
    }, TICK_MS);
    this.tick.unref();
    void this.reload();
  }

  /** Stops leasing; waits a little for pushes under way (the others' leases run out and go to another worker). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tick !== null) clearInterval(this.tick);
    for (const p of this.pumps.values()) if (p.timer !== null) clearTimeout(p.timer);
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
  }

  /** Targets and their breakers, for tests and metrics. */
  get targets(): ReadonlyMap<string, { breaker: BreakerState; inflight: number }> {
    return this.pumps;
  }

  private wake(agents: string[]): void {
    const set = new Set(agents);
    for (const p of this.pumps.values()) if (set.has(p.target.agentId)) this.schedule(p);
  }

  /** Reads the targets again (added, removed, retried), then looks at every queue. */
  private async reload(all = false): Promise<void> {
    if (this.stopped) return;
    if (all) this.pollAll = true;
    if (this.loading !== null) {
      this.reloadWanted = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const all = await this.hub.targetQueue.all();
        const seen = new Set<string>();
        for (const t of all) {
          seen.add(t.id);
          const p = this.pumps.get(t.id);
          if (p === undefined) {
            this.pumps.set(t.id, { target: t, config: configOf(t), inflight: 0, busy: false, again: false, failures: 0, breaker: { state: 'closed', until: null }, timer: null, mirrored: '', polled: 0 });
          } else {
            p.target = t;
            p.config = configOf(t);
          }
        }
        for (const [id, p] of this.pumps) {
          if (seen.has(id)) continue;
          if (p.timer !== null) clearTimeout(p.timer);
          this.pumps.delete(id);
          this.hub.metrics.targetBreaker.remove({ target: id, kind: p.target.settings.kind });
        }
        const now = this.hub.now();
        const every = this.pollAll;
        this.pollAll = false;
        for (const p of this.pumps.values()) if (every || now - p.polled >= SWEEP_MS) this.schedule(p);
      } catch (e) {
        this.onError(e, 'delivery targets: reading the targets');
      } finally {
        this.loading = null;
      }
      if (this.reloadWanted) {
        this.reloadWanted = false;
        await this.reload();
      }
    })();
    return this.loading;
  }

  private schedule(p: Pump): void {
    if (this.stopped) return;
    if (p.busy) {
      p.again = true;
      return;
    }
    p.busy = true;
    setImmediate(() => void this.pass(p));
  }

  /** Leases what the target may take now and starts pushing it. */
  private async pass(p: Pump): Promise<void> {
    try {
      if (this.stopped || this.pumps.get(p.target.id) !== p) return;
      const now = this.hub.now();
      if (p.breaker.state === 'open') {
        const until = p.breaker.until ?? now;
        if (now < until) return this.wakeAt(p, until);
        this.setBreaker(p, { state: 'half-open', until: null });
      }
      const max = p.breaker.state === 'half-open' ? 1 : this.concurrency(p);
      const room = max - p.inflight;
      // One lease for several pushes: with pushes under way, wait until half the room is free
      // (a lease is a transaction; one per push cost a PostgreSQL worker a third of its rate).
      if (room <= 0 || (p.inflight > 0 && room < Math.ceil(max / 2))) return;
      const c = this.hub.config;
      p.polled = now;
      const leases = await this.hub.targetQueue.lease(p.target.id, this.owner, room, c['targets.leaseSeconds'] * 1000, this.hub.settings.get('delivery.maxAttempts'));
      for (const l of leases) this.push(p, l);
    } catch (e) {
      this.onError(e, `delivery target ${p.target.id}: leasing`);
    } finally {
      p.busy = false;
      if (p.again) {
        p.again = false;
        this.schedule(p);
      }
    }
  }

  private concurrency(p: Pump): number {
    const n = this.hub.config['targets.concurrency'];
    switch (p.target.settings.kind) {
      case 'tmux':
        return 1;
      case 'command':
        return Math.min(n, COMMAND_CONCURRENCY);
      default:
        return n;
    }
  }

  private push(p: Pump, l: TargetLease): void {
    p.inflight += 1;
    const kind = p.target.settings.kind;
    const run = (async () => {
      let outcome: Outcome;
      try {
        outcome = await deliver(p.config, { agent: p.target.agentId, message: l.message, attempt: l.attempt });
      } catch (e) {
        outcome = { ok: false, ms: 0, reason: 'io', error: `the deliverer failed: ${(e as Error).message}` };
      }
      this.hub.metrics.targetPushes.inc({ kind, outcome: outcome.ok ? 'ok' : outcome.reason });
      this.hub.metrics.targetPushSeconds.observe({ kind }, outcome.ms / 1000);
      await this.settle(p, l, outcome);
    })()
      .catch((e: unknown) => this.onError(e, `delivery target ${p.target.id}: settling`))
      .finally(() => {
        p.inflight -= 1;
        this.pending.delete(run);
        this.schedule(p);
      });
    this.pending.add(run);
  }

  private async settle(p: Pump, l: TargetLease, o: Outcome): Promise<void> {
    const now = this.hub.now();
    const id = p.target.id;
    if (o.ok) {
      p.failures = 0;
      await this.hub.targetQueue.settle(id, l.message.id, this.owner, { ok: true, at: now });
      if (p.breaker.state !== 'closed') this.setBreaker(p, { state: 'closed', until: null });
      return;
    }
    p.failures += 1;
    const c = this.hub.config;
    const opens = p.breaker.state === 'half-open' || (p.breaker.state === 'closed' && p.failures >= c['targets.breakerFailures']);
    // Open at once here (no more leases), recorded in the store after the failure that opened it.
    if (opens) p.breaker = { state: 'open', until: Math.round(now + c['targets.breakerSeconds'] * 1000) };
    const maxAttempts = this.hub.settings.get('delivery.maxAttempts');
    const dead = o.permanent === true || l.attempt >= maxAttempts;
    const backoff = Math.min(c['targets.backoffMaxSeconds'], c['targets.backoffSeconds'] * 2 ** (l.attempt - 1)) * 1000 * (0.5 + Math.random());
    const retryAt = Math.round(now + Math.max(o.retryAfterMs ?? 0, backoff));
    const why = `${o.reason}: ${o.error}`;
    const error = dead ? `${why}${o.permanent === true ? ' (retrying cannot help)' : ` (after ${l.attempt} attempts)`}` : why;
    await this.hub.targetQueue.settle(id, l.message.id, this.owner, { ok: false, at: now, error, retryAt, dead });
    if (opens) this.setBreaker(p, p.breaker);
    if (!dead && !opens) this.wakeAt(p, retryAt);
  }

  private setBreaker(p: Pump, b: BreakerState): void {
    p.breaker = b;
    if (b.state === 'closed') p.failures = 0;
    this.hub.metrics.targetBreaker.set({ target: p.target.id, kind: p.target.settings.kind }, b.state === 'closed' ? 0 : b.state === 'half-open' ? 1 : 2);
    void this.hub.targetQueue.noteBreaker(p.target.id, b).catch((e: unknown) => this.onError(e, `delivery target ${p.target.id}: recording its breaker`));
    if (b.state === 'open' && b.until !== null) this.wakeAt(p, b.until);
  }

  private wakeAt(p: Pump, at: number): void {
    if (this.stopped) return;
    if (p.timer !== null) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      p.timer = null;
      this.schedule(p);
    }, Math.max(1, at - this.hub.now() + 1));
    p.timer.unref();
  }

  /** status.json of file targets that mirror the agent's presence and mission. */
  private async mirrorStatus(): Promise<void> {
    for (const p of this.pumps.values()) {
      const s = p.target.settings;
      if (s.kind !== 'file' || !s.statusMirror) continue;
      try {
        const a = await this.hub.agents.get(SYSTEM_ACTOR, p.target.agentId);
        const text = JSON.stringify({ agent: a.id, status: a.presence, mission: a.mission, updatedAt: a.lastSeenAt });
        if (text === p.mirrored) continue;
        const o = await writeStatus(s.dir, a.id, { status: a.presence, mission: a.mission, updatedAt: a.lastSeenAt ?? this.hub.now() });
        if (o.ok) p.mirrored = text;
        else this.onError(new Error(`${o.reason}: ${o.error}`), `delivery target ${p.target.id}: status.json`);
      } catch (e) {
        this.onError(e, `delivery target ${p.target.id}: status.json`);
      }
    }
  }
}
