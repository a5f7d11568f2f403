// The loop guard: agents that answer each other automatically can bounce messages forever (a known
// failure of agent swarms). Every agent-to-agent send is recorded as an edge with its time; a loop
// is two agents writing to each other (A→B→A) or three in a ring (A→B→C→A). Its traffic is the
// number of messages that went all the way round within limits.loopWindowSeconds: the loop's length
// times the count of its least busy edge, so a one-sided flood with a single reply is not a loop
// (the per-agent rate limit handles floods). When that exceeds limits.loopRate, sends between the
// loop's agents are refused for limits.loopCooldownSeconds and `onTrip` is told once, which tells
// the captains. Captains, admins and human: agents are exempt and not counted: a person or a
// coordinator answering quickly is not the runaway kind, and must stay able to step in.
// In memory; with several hub processes on one store, each tells the others what it counted
// (`onRecorded`, `observe`) and which loops it stopped (`hold`), over the store's events, so the
// guard holds for the hub as a whole within the time an event takes to arrive.
import type { Agent, Role } from '../domain/agent.js';
import { isHuman, SYSTEM_ID } from '../domain/agent.js';
import { HubError } from '../errors.js';

export interface LoopSettings {
  /** Messages round a loop allowed within the window. */
  rate: number;
  windowMs: number;
  cooldownMs: number;
}

export interface LoopTrip {
  /** The loop's agents, in the order the messages went round. */
  agents: string[];
  /** Messages that went round the loop within the window (the one refused included). */
  count: number;
  windowSeconds: number;
  /** When sends between them are allowed again (ms since the epoch). */
  until: number;
}

interface Hold {
  agents: Set<string>;
  trip: LoopTrip;
}

/** Checks between full clean-ups of edges nobody used within the window. */
const PRUNE_EVERY = 1000;

export function isLoopExempt(id: string, role: Role | 'system'): boolean {
  return id === SYSTEM_ID || role === 'system' || role === 'captain' || role === 'admin' || isHuman(id);
}

/** What the guard leads to (wired by the hub). */
export interface LoopGuardHooks {
  /** Once per tripped loop: other processes hold it too, and the captains are told. */
  onTrip(trip: LoopTrip): void;
  /** Every edge counted here: other processes' guards count it too. */
  onRecorded(from: string, to: string): void;
}

export class LoopGuard {
  /** from -> to -> send times within the window, oldest first. */
  private readonly edges = new Map<string, Map<string, number[]>>();
  private holds: Hold[] = [];
  private checks = 0;
  constructor(
    private readonly settings: () => LoopSettings,
    private readonly hooks: LoopGuardHooks = { onTrip: () => undefined, onRecorded: () => undefined },
  ) {}

  /**
   * Called before a send is stored. Refuses (429 rate_limited) a send between agents of a held
   * loop, or the send that takes a loop over the rate; otherwise records it.
   */
  check(sender: Pick<Agent, 'id' | 'role'>, recipients: ReadonlyMap<string, Role>, now: number): void {
    if (isLoopExempt(sender.id, sender.role)) return;
    const s = this.settings();
    const to = [...recipients].filter(([id, role]) => id !== sender.id && !isLoopExempt(id, role)).map(([id]) => id);
    if (to.length === 0) return;
    this.holds = this.holds.filter((h) => h.trip.until > now);
    for (const r of to) {
      const hold = this.holds.find((h) => h.agents.has(sender.id) && h.agents.has(r));
      if (hold !== undefined) throw this.refusal(hold.trip, now, s);
    }
    if (++this.checks % PRUNE_EVERY === 0) this.prune(now - s.windowMs);
    for (const r of to) {
      this.record(sender.id, r, now, s.windowMs);
      this.hooks.onRecorded(sender.id, r);
    }
    for (const r of to) {
      const loop = this.heaviestLoop(sender.id, r, now - s.windowMs);
      if (loop === null || loop.count <= s.rate) continue;
      const trip: LoopTrip = { agents: loop.agents, count: loop.count, windowSeconds: s.windowMs / 1000, until: now + s.cooldownMs };
      this.holds.push({ agents: new Set(loop.agents), trip });
      // The cool-down pays for the loop's history: counted again afterwards, the same messages
      // would trip it (and tell the captains) at the first send after the cool-down.
      for (const x of loop.agents) for (const y of loop.agents) this.edges.get(x)?.delete(y);
      this.hooks.onTrip(trip);
      throw this.refusal(trip, now, s);
    }
  }

  /** Sends another process counted (checked there): counted here too, not checked again. */
  observe(from: string, to: string, count: number, now: number): void {
    const windowMs = this.settings().windowMs;
    for (let i = 0; i < count; i++) this.record(from, to, now, windowMs);
  }

  /** A loop another process stopped: held here too (its captains were told there). */
  hold(trip: LoopTrip): void {
    this.holds.push({ agents: new Set(trip.agents), trip });
    for (const x of trip.agents) for (const y of trip.agents) this.edges.get(x)?.delete(y);
  }

  /** Loops held right now (for tests and operators). */
  held(now: number): LoopTrip[] {
    return this.holds.filter((h) => h.trip.until > now).map((h) => h.trip);
  }

  private refusal(trip: LoopTrip, now: number, s: LoopSettings): HubError {
    const retryAfterSeconds = Math.max(1, Math.ceil((trip.until - now) / 1000));
    return new HubError(
      'rate_limited',
      `loop guard: ${trip.agents.join(', ')} sent ${trip.count} messages round a loop within ${trip.windowSeconds} s (limit ${s.rate}, setting limits.loopRate); sends between them are held for ${retryAfterSeconds} s more`,
      { details: { retryAfterSeconds, agents: trip.agents } },
    );
  }

  private record(from: string, to: string, now: number, windowMs: number): void {
    let out = this.edges.get(from);
    if (out === undefined) this.edges.set(from, (out = new Map()));
    const times = out.get(to) ?? [];
    times.push(now);
    trim(times, now - windowMs);
    out.set(to, times);
  }

  /** Sends from -> to since `since`. */
  private count(from: string, to: string, since: number): number {
    const times = this.edges.get(from)?.get(to);
    if (times === undefined) return 0;
    trim(times, since);
    return times.length;
  }

  /** The busiest loop through the edge a -> b: b -> a back, or b -> c -> a. */
  private heaviestLoop(a: string, b: string, since: number): { agents: string[]; count: number } | null {
    const ab = this.count(a, b, since);
    let best: { agents: string[]; count: number } | null = null;
    const back = this.count(b, a, since);
    if (back > 0) best = { agents: [a, b], count: 2 * Math.min(ab, back) };
    for (const c of this.edges.get(b)?.keys() ?? []) {
      if (c === a || c === b) continue;
      const bc = this.count(b, c, since);
      const ca = bc === 0 ? 0 : this.count(c, a, since);
      const n = 3 * Math.min(ab, bc, ca);
      if (n > 0 && (best === null || n > best.count)) best = { agents: [a, b, c], count: n };
    }
    return best;
  }

  private prune(since: number): void {
    for (const [from, out] of this.edges) {
      for (const [to, times] of out) {
        trim(times, since);
        if (times.length === 0) out.delete(to);
      }
      if (out.size === 0) this.edges.delete(from);
    }
  }
}

/** Drops the times before `since` (they are sorted). */
function trim(times: number[], since: number): void {
  let i = 0;
  while (i < times.length && (times[i] ?? 0) <= since) i += 1;
  if (i > 0) times.splice(0, i);
}
