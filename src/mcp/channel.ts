// Push into the agent's session (`swarm mcp --channel`): the MCP server declares Claude Code's
// `claude/channel` capability, holds a live stream of the agent's deliveries (the client's
// WebSocket stream, which reconnects and resumes) and sends each one as a
// `notifications/claude/channel` event the moment it arrives. At least once, never lost:
//   - a delivery is acknowledged only after its notification was written to the transport (the
//     stdio transport's send resolves once stdout took the line; on Linux a pipe write is
//     synchronous), so a process killed before that leaves it unacknowledged, its lease lapses,
//     and the next process pushes it again with the same `message_id` (and a higher `attempt`);
//   - only senders inside the gate are pushed: agents registered on this hub (and the hub's own
//     system messages), and with an allow-list only those ids. A delivery from outside is set
//     aside, not acknowledged: it stays in the inbox (the inbox tool and `swarm inbox` show it)
//     and comes back to the stream only after SET_ASIDE_SECONDS, when it is set aside again.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { WireDeliveryEvent } from '../api/schemas.js';
import type { SwarmClient } from '../client/client.js';
import { HubStream } from '../client/stream.js';
import { SYSTEM_ID } from '../domain/agent.js';
import { HubError } from '../errors.js';
import { channelEvent } from './channel-event.js';

export const CHANNEL_CAPABILITY = 'claude/channel';
export const CHANNEL_METHOD = 'notifications/claude/channel';

/**
 * How long a delivery from outside the gate is set aside (nacked with this delay): the longest
 * delay a nack takes (api/schemas.ts ClientFrame). Each return counts as a hand-out, so after
 * delivery.maxAttempts days unacknowledged it goes to the dead letters, like any unread delivery.
 */
export const SET_ASIDE_SECONDS = 86_400;
/** The roster of registered agents is fetched again after this long (a removed agent drops out). */
const ROSTER_TTL_MS = 30_000;
/** ...and at once for an unknown sender (just registered), but not more often than this. */
const ROSTER_RETRY_MS = 1_000;
/** Message ids pushed in this session, kept to recognise a lease that lapsed before its ack. */
const PUSHED_KEPT = 10_000;
/** Most ids in one ack request (api/schemas.ts AckBody). */
const ACK_MAX = 1000;

export interface ChannelOptions {
  /** Agent ids whose messages are pushed; null: every registered agent of the hub. */
  allow: string[] | null;
  /** Most unacknowledged deliveries the stream holds (default: the hub's streams.prefetch). */
  prefetch?: number | undefined;
  /** Diagnostics, one line each (default: stderr; stdout belongs to the MCP transport). */
  log?: ((line: string) => void) | undefined;
}

/** Registered agents of the hub, fetched lazily and refreshed (see ROSTER_TTL_MS). */
class Roster {
  private ids = new Set<string>();
  private fetchedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly client: SwarmClient,
    private readonly log: (line: string) => void,
  ) {}

  async has(id: string): Promise<boolean> {
    const age = Date.now() - this.fetchedAt;
    if (age > ROSTER_TTL_MS || (!this.ids.has(id) && age > ROSTER_RETRY_MS)) await this.refresh();
    return this.ids.has(id);
  }

  private refresh(): Promise<void> {
    this.loading ??= this.client
      .agents()
      .then(
        (r) => void (this.ids = new Set(r.agents.map((a) => a.id))),
        (e: unknown) => this.log(`channel: cannot list the hub's agents (${(e as Error).message}); using the last list`),
      )
      .finally(() => {
        this.fetchedAt = Date.now();
        this.loading = null;
      });
    return this.loading;
  }
}

/** Which senders are pushed. */
class SenderGate {
  private readonly allow: Set<string> | null;
  constructor(
    allow: string[] | null,
    private readonly roster: Roster,
  ) {
    this.allow = allow === null ? null : new Set(allow);
  }

  async admits(sender: string): Promise<boolean> {
    if (this.allow !== null && !this.allow.has(sender)) return false;
    return sender === SYSTEM_ID || (await this.roster.has(sender));
  }
}

/** Acks of pushed deliveries, batched per event-loop turn (a burst costs one request, not one each). */
class Acks {
  private ids: string[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly client: SwarmClient,
    private readonly log: (line: string) => void,
  ) {}

  add(id: string): void {
    this.ids.push(id);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.ids.length > 0) {
      const ids = this.ids.splice(0, ACK_MAX);
      // Over HTTP, not the stream: an ack there is lenient (an id the agent acked meanwhile with
      // the inbox tool is `already`, not an error failing the whole batch), and frees the
      // stream's credit all the same. A failed ack is not retried: the lease lapses, the stream
      // hands the delivery out again, and it is acked then without a second push (`pushed`).
      const p = this.client.ack(ids).then(
        () => undefined,
        (e: unknown) => this.log(`channel: ack of ${ids.length} pushed deliveries failed (${(e as Error).message}); they come back and are acked then`),
      );
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  async settle(): Promise<void> {
    if (this.scheduled) this.flush();
    await Promise.all([...this.inFlight]);
  }
}

/** Remembers the last PUSHED_KEPT ids (insertion order). */
class RecentIds {
  private readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > PUSHED_KEPT) this.ids.delete(this.ids.values().next().value as string);
  }
}

/**
 * Declares the capability and opens the agent's stream; pushing starts once the MCP client has
 * initialized the session. Call it BEFORE `server.connect(transport)`: capabilities can only be
 * registered before connecting (the SDK throws otherwise), and it chains `server.server.oninitialized`
 * (a handler set before the call still runs; one set after replaces this one). Throws a HubError
 * when the stream cannot be opened (hub unreachable, bad token). Returns a function that stops
 * the push: the stream closes, acks in flight finish; deliveries not pushed stay unacknowledged.
 */
export async function attachChannel(server: McpServer, client: SwarmClient, opts: ChannelOptions): Promise<() => Promise<void>> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const inner = server.server;
  if (inner.transport !== undefined) throw new HubError('usage', 'attachChannel must be called before server.connect(): the channel capability is declared at the handshake');
  inner.registerCapabilities({ experimental: { [CHANNEL_CAPABILITY]: {} } });

  const c = client.connection;
  const stream = new HubStream({
    baseUrl: c.baseUrl,
    token: c.token,
    as: c.as,
    ca: c.ca,
    prefetch: opts.prefetch,
    onStatus: (status, detail) => {
      if (status === 'reconnecting') log(`channel: stream dropped (${detail}); reconnecting and resuming`);
    },
  });
  await stream.connect();

  let initialized!: () => void;
  const ready = new Promise<void>((r) => (initialized = r));
  const previous = inner.oninitialized;
  inner.oninitialized = () => {
    previous?.();
    initialized();
  };

  const gate = new SenderGate(opts.allow, new Roster(client, log));
  const acks = new Acks(client, log);
  const pushed = new RecentIds();
  let stopped = false;
  let stopping!: () => void;
  const stopRequested = new Promise<void>((r) => (stopping = r));

  const push = async (ev: WireDeliveryEvent): Promise<void> => {
    const id = ev.message.id;
    if (pushed.has(id)) return acks.add(id); // pushed here already; its lease lapsed before the ack
    if (!(await gate.admits(ev.message.from))) {
      await client.nack([id], SET_ASIDE_SECONDS).catch((e: unknown) => log(`channel: could not set aside ${id} from ${ev.message.from} (${(e as Error).message})`));
      return;
    }
    const params = channelEvent(ev.message, ev.attempt);
    // The SDK types notifications as the spec's union; this one is Claude Code's extension.
    await inner.notification({ method: CHANNEL_METHOD, params } as unknown as Parameters<typeof inner.notification>[0]);
    pushed.add(id);
    acks.add(id);
  };

  const pump = (async () => {
    await Promise.race([ready, stopRequested]);
    try {
      for await (const ev of stream) {
        if (stopped) break;
        if (ev.type === 'delivery') await push(ev);
      }
    } catch (e) {
      if (stopped) return;
      log(`channel: push stopped: ${(e as Error).message}`);
      stream.close();
      // The stream ended for cause (token revoked, agent removed): the session cannot receive.
      if (e instanceof HubError && (e.code === 'unauthorized' || e.code === 'forbidden')) await server.close().catch(() => undefined);
    }
  })();

  return async () => {
    stopped = true;
    stopping();
    stream.close();
    await pump;
    await acks.settle();
  };
}
