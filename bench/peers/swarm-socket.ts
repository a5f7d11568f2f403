// Sends over one Swarm WebSocket (docs/streams.md): `send` frames, each with its own id, as many
// outstanding as the caller keeps, each answer (`sent` or `error`) matched to its frame by id. The
// answers are read without parsing the whole frame (the id follows the type), so the client's
// cost stays small beside the hub's.
import { WebSocket } from 'ws';

const SENT = '{"type":"sent","id":"';
const ERROR = '{"type":"error","id":"';

export class SwarmSocket {
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private frame = 0;
  private ws: WebSocket | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Resolves on the hub's `ready` frame. prefetch=1: this socket's agent is not the one receiving. */
  connect(): Promise<void> {
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/v1/ws?prefetch=1`, { headers: { authorization: `Bearer ${this.token}` }, perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready frame within 10 s')), 10_000);
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        const sent = text.startsWith(SENT);
        if (sent || text.startsWith(ERROR)) {
          const from = (sent ? SENT : ERROR).length;
          const id = text.slice(from, text.indexOf('"', from));
          const w = this.waiting.get(id);
          this.waiting.delete(id);
          if (sent) w?.resolve();
          else w?.reject(new Error(text.slice(0, 300)));
        } else if (text.startsWith('{"type":"ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.on('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`closed: ${code}`));
        for (const w of this.waiting.values()) w.reject(new Error(`socket closed (${code}) before the answer`));
        this.waiting.clear();
      });
    });
  }

  /** One `send` frame; resolves on its `sent` answer (the message is committed by then). */
  send(to: string, body: string): Promise<void> {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('socket not open'));
    const id = `s${++this.frame}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      ws.send(`{"type":"send","id":"${id}","message":${JSON.stringify({ to, body })}}`);
    });
  }

  close(): void {
    const ws = this.ws;
    this.ws = null;
    ws?.terminate();
  }
}

/** `n` sockets for one agent, connected. */
export async function openSockets(url: string, token: string, n: number): Promise<SwarmSocket[]> {
  const sockets = Array.from({ length: n }, () => new SwarmSocket(url, token));
  try {
    await Promise.all(sockets.map((s) => s.connect()));
  } catch (e) {
    for (const s of sockets) s.close();
    throw e;
  }
  return sockets;
}
