// Stream consumers that live through hub restarts, for the availability tests: a WebSocket watcher
// (the client library's HubStream, which reconnects and resumes after the last event it saw) and an
// SSE watcher that does what a browser's EventSource does (reconnect after `retry:` with
// Last-Event-ID) and acknowledges over HTTP. Both acknowledge what they get, remember every message
// id received, and count their reconnections. Bounded: `close()` ends them.
import { HubStream } from '../../src/client/stream.js';

export interface Watcher {
  agent: string;
  kind: 'ws' | 'sse';
  /** Every message id received at least once. */
  received: Set<string>;
  /** Deliveries received, repeats included. */
  deliveries: number;
  reconnects: number;
  /** Set when the watcher gave up (it should never). */
  error: Error | null;
  close(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function wsWatcher(url: string, agent: string, token: string): Promise<Watcher> {
  const stream = new HubStream({
    baseUrl: url,
    token,
    prefetch: 200,
    onStatus: (s) => {
      if (s === 'reconnecting') w.reconnects += 1;
    },
  });
  const w: Watcher = { agent, kind: 'ws', received: new Set(), deliveries: 0, reconnects: 0, error: null, close: () => stream.close() };
  await stream.connect();
  // The deliveries of one turn are acknowledged with one frame. An ack lost with a connection is
  // harmless: the delivery comes again after its lease.
  let toAck: string[] = [];
  const flush = (): void => {
    const ids = toAck;
    toAck = [];
    stream.ack(ids).catch(() => undefined);
  };
  void (async () => {
    try {
      for await (const ev of stream) {
        if (ev.type !== 'delivery') continue;
        w.deliveries += 1;
        w.received.add(ev.message.id);
        if (toAck.push(ev.message.id) === 1) setImmediate(flush);
      }
    } catch (e) {
      w.error = e as Error;
    }
  })();
  return w;
}

export async function sseWatcher(url: string, agent: string, token: string): Promise<Watcher> {
  const ctl = new AbortController();
  let closed = false;
  const w: Watcher = {
    agent,
    kind: 'sse',
    received: new Set(),
    deliveries: 0,
    reconnects: 0,
    error: null,
    close: () => {
      closed = true;
      ctl.abort();
    },
  };
  let lastEventId: string | undefined;
  let retryMs = 1000;
  const toAck: string[] = [];

  // Acks leave in batches through the balancer; a failed batch is tried again with the next one.
  void (async () => {
    while (!closed) {
      await sleep(50);
      if (toAck.length === 0) continue;
      const ids = toAck.splice(0, 1000);
      try {
        const r = await fetch(`${url}/v1/ack`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ids }),
          signal: AbortSignal.timeout(3000),
        });
        await r.text();
        if (r.status !== 200) toAck.push(...ids);
      } catch {
        toAck.push(...ids);
      }
    }
  })();

  /** One connection, until it ends; `onReady` once the hub's `ready` event arrived. */
  const connectOnce = async (onReady: () => void): Promise<void> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const res = await fetch(`${url}/v1/stream?prefetch=200`, { headers, signal: ctl.signal });
    if (res.status !== 200 || res.body === null) throw new Error(`SSE refused: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let id: string | undefined;
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
          else if (line.startsWith('retry: ')) retryMs = Number(line.slice(7));
        }
        if (event === 'ready') onReady();
        if (event !== 'delivery') continue;
        if (id !== undefined) lastEventId = id;
        const messageId = (JSON.parse(data) as { message: { id: string } }).message.id;
        w.deliveries += 1;
        w.received.add(messageId);
        toAck.push(messageId);
      }
    }
  };

  await new Promise<void>((resolve, reject) => {
    let ready = false;
    void (async () => {
      while (!closed) {
        try {
          await connectOnce(() => {
            ready = true;
            resolve();
          });
        } catch (e) {
          if (!ready) return reject(e as Error);
        }
        if (closed) break;
        w.reconnects += 1;
        await sleep(retryMs);
      }
    })();
  });
  return w;
}
