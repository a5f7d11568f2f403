// The directory cache: agents and tokens as this process last read them, so that a send does not
// cost a token lookup and an agent lookup per request (issue 11: 4-5 round trips per send). Other
// processes change the directory too, so every entry is tied to the directory version
// (migration 0005): a trigger bumps it in the transaction of any change that decides who may do
// what (a token created or revoked, an agent added, removed or given another role) and notifies
// every process at commit. A notification clears the cache at once; in case one is lost (a broken
// LISTEN connection), the version is also polled every POLL_MS, and the cache is not used at all
// while the last successful poll is older than TRUST_MS. So a revocation through any process is
// refused by every process within STALE_BOUND_MS, whatever happened to LISTEN.
//
// Agents also carry status, mission and last sight, which change without a version bump: a cached
// agent is re-read after AGENT_TTL_MS, the same second the presence tracker flushes sightings in.
import type { Agent } from '../../domain/agent.js';
import type { TokenMatch } from '../store.js';

/** How often the version is read. */
export const POLL_MS = 250;
/** The cache is bypassed when no poll has succeeded for this long. */
const TRUST_MS = 750;
/** A revocation or removal through one process is refused by every other one within this bound. */
export const STALE_BOUND_MS = TRUST_MS + POLL_MS;
/** Agents are re-read after this age (status, mission and sightings change without a version bump). */
const AGENT_TTL_MS = 1000;
/** Most tokens and agents kept; past that the cache starts over (it is only a shortcut). */
const MAX_ENTRIES = 50_000;

interface Stamped<T> {
  value: T;
  at: number;
}

export class DirectoryCache {
  private version = -1;
  /** Moves at every clear: a read that began before a clear must not refill the cache. */
  private epoch = 0;
  private trustedUntil = 0;
  private readonly tokens = new Map<string, TokenMatch>();
  private readonly agents = new Map<string, Stamped<Agent>>();
  private roster: Stamped<Agent[]> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly readVersion: () => Promise<number>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts polling; resolves after the first poll (failed or not). */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.trustedUntil = 0;
    this.clear();
  }

  /** Something changed (a notification, or a write through this process). */
  clear(): void {
    this.epoch += 1;
    this.tokens.clear();
    this.agents.clear();
    this.roster = null;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const started = this.now();
    try {
      const v = await this.readVersion();
      if (v !== this.version) {
        this.version = v;
        this.clear();
      }
      // Trusted from when the read was sent: a change committed after it is caught by the next one.
      this.trustedUntil = started + TRUST_MS;
    } catch {
      this.clear();
    } finally {
      this.polling = false;
    }
  }

  private trusted(): boolean {
    return this.now() < this.trustedUntil;
  }

  token(hash: Buffer): TokenMatch | undefined {
    return this.trusted() ? this.tokens.get(hash.toString('base64')) : undefined;
  }

  /**
   * Keeps what a read returned, unless the cache was cleared while it ran (the read may predate
   * the change). Only found tokens are kept: a random token must not grow the cache.
   */
  keepToken(hash: Buffer, t: TokenMatch | null, epochBefore: number): void {
    if (t === null || epochBefore !== this.epoch || !this.trusted()) return;
    if (this.tokens.size >= MAX_ENTRIES) this.tokens.clear();
    this.tokens.set(hash.toString('base64'), t);
  }

  agent(id: string): Agent | undefined {
    const e = this.agents.get(id);
    if (e === undefined || !this.trusted() || this.now() - e.at > AGENT_TTL_MS) return undefined;
    return e.value;
  }

  keepAgent(a: Agent | null, epochBefore: number, readAt: number): void {
    if (a === null || epochBefore !== this.epoch || !this.trusted()) return;
    if (this.agents.size >= MAX_ENTRIES) this.agents.clear();
    this.agents.set(a.id, { value: a, at: readAt });
  }

  listAgents(): Agent[] | undefined {
    const r = this.roster;
    if (r === null || !this.trusted() || this.now() - r.at > AGENT_TTL_MS) return undefined;
    return r.value;
  }

  keepRoster(agents: Agent[], epochBefore: number, readAt: number): void {
    if (epochBefore !== this.epoch || !this.trusted()) return;
    this.roster = { value: agents, at: readAt };
  }

  /** Taken before a read whose result may be kept: the cache's epoch and the time. */
  mark(): { epoch: number; at: number } {
    return { epoch: this.epoch, at: this.now() };
  }
}
