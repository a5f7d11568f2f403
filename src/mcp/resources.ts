// Two resources: the caller's inbox and the task board, with subscriptions that send
// notifications/resources/updated when either changes.
//
// Change is watched over plain HTTP, not over a delivery stream: a stream leases each delivery to
// its consumer, and one never acknowledged is delivered again and, after delivery.maxAttempts,
// goes to the dead letters; a watcher must not take messages away from the agent. The inbox watch
// long-polls (GET /v1/inbox?unread=true&wait=…) while nothing is unread, so an arrival is seen at
// once; otherwise it and the board are polled every few seconds.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { SwarmClient } from '../client/client.js';
import { type HubError, isHubError } from '../errors.js';
import { compactInbox, compactTask } from './compact.js';

export const INBOX_URI = 'swarm://inbox';
export const BOARD_URI = 'swarm://tasks';

export interface WatchOptions {
  /** Poll interval, ms (default 2000). */
  pollMs?: number;
  /** Longest single long-poll of the inbox, seconds (default 20). */
  waitSeconds?: number;
  onHubError?: (e: HubError) => void;
  log?: (line: string) => void;
}

async function inboxText(client: SwarmClient): Promise<string> {
  const r = await client.inbox({ limit: 50 });
  return JSON.stringify({ agent: r.agent, count: r.items.length, ...compactInbox(r.items, false) });
}

async function boardText(client: SwarmClient): Promise<string> {
  const r = await client.tasks({ limit: 200 });
  return JSON.stringify({ tasks: r.tasks.filter((t) => t.status !== 'verified').map((t) => compactTask(t)) });
}

export function registerResources(server: McpServer, client: SwarmClient): void {
  server.registerResource('inbox', INBOX_URI, { description: 'Your open messages (compact; read a message by id for its body).', mimeType: 'application/json' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: await inboxText(client) }],
  }));
  server.registerResource('tasks', BOARD_URI, { description: 'The task board: tasks not yet verified.', mimeType: 'application/json' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: await boardText(client) }],
  }));
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Subscriptions for a session that lasts (stdio). Returns a function that stops every watch. */
export function enableSubscriptions(server: McpServer, client: SwarmClient, o: WatchOptions = {}): () => void {
  const pollMs = o.pollMs ?? 2000;
  const waitSeconds = o.waitSeconds ?? 20;
  const watches = new Map<string, AbortController>();
  server.server.registerCapabilities({ resources: { subscribe: true } });

  const changed = (uri: string): void => void server.server.sendResourceUpdated({ uri }).catch(() => undefined);

  async function watch(uri: string, stop: AbortSignal): Promise<void> {
    let last: string | undefined;
    while (!stop.aborted) {
      try {
        if (uri === INBOX_URI) {
          const r = await client.inbox({ limit: 200 }, stop);
          const print = r.items.map((i) => `${i.message.id}:${i.delivery.state}`).join(',');
          if (last !== undefined && print !== last) changed(uri);
          last = print;
          const unread = r.items.some((i) => i.delivery.state === 'pending' || i.delivery.state === 'delivered');
          if (!unread) {
            const arrived = await client.inbox({ unread: true, limit: 1, wait: waitSeconds }, stop);
            if (arrived.items.length > 0) continue;
          } else await sleep(pollMs, stop);
        } else {
          const r = await client.tasks({ limit: 1000 });
          const print = r.tasks.map((t) => `${t.id}:${t.status}:${t.assignee ?? ''}`).join(',');
          if (last !== undefined && print !== last) changed(uri);
          last = print;
          await sleep(pollMs, stop);
        }
      } catch (e) {
        if (stop.aborted) return;
        if (isHubError(e)) {
          o.onHubError?.(e);
          o.log?.(`swarm mcp: watching ${uri}: ${e.code}: ${e.message}`);
          if (e.code === 'unauthorized' || e.code === 'forbidden') return;
        }
        await sleep(pollMs * 2, stop);
      }
    }
  }

  server.server.setRequestHandler(SubscribeRequestSchema, (req) => {
    const uri = req.params.uri;
    if (uri !== INBOX_URI && uri !== BOARD_URI) throw new Error(`no resource ${uri} (subscribe to ${INBOX_URI} or ${BOARD_URI})`);
    if (!watches.has(uri)) {
      const ac = new AbortController();
      watches.set(uri, ac);
      void watch(uri, ac.signal);
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
    watches.get(req.params.uri)?.abort();
    watches.delete(req.params.uri);
    return {};
  });
  return () => {
    for (const ac of watches.values()) ac.abort();
    watches.clear();
  };
}
