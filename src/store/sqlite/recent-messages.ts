// Messages just written or read, by seq, for the hand-outs that follow: a broadcast is handed out
// once per agent, and each hand-out would otherwise read the same message row again. Bounded by
// count and by characters, since one message may be megabytes.
import type { Message } from '../../domain/message.js';
import { type MessageRow, toMessage } from '../rows.js';
import type { Connection } from './connection.js';

/** Messages kept: this many at most, ... */
const RECENT_MAX = 4096;
/** ... and this many characters of subject and body together (one message may be megabytes). */
const RECENT_MAX_CHARS = 16 * 1024 * 1024;

export class RecentMessages {
  private readonly recent = new Map<number, Message>();
  private recentChars = 0;

  constructor(private readonly conn: Connection) {}

  /** Keeps a just-written or just-read message for the hand-outs that follow (a broadcast: one per agent). */
  remember(seq: number, m: Message): void {
    const chars = m.subject.length + m.body.length;
    if (chars > RECENT_MAX_CHARS / 4 || this.recent.has(seq)) return;
    while (this.recent.size > 0 && (this.recent.size >= RECENT_MAX || this.recentChars + chars > RECENT_MAX_CHARS)) {
      const [oldest, old] = this.recent.entries().next().value as [number, Message];
      this.forget(oldest, old);
    }
    this.recent.set(seq, m);
    this.recentChars += chars;
  }

  get(seq: number): Message | undefined {
    return this.recent.get(seq);
  }

  forget(seq: number, m: Message): void {
    if (this.recent.delete(seq)) this.recentChars -= m.subject.length + m.body.length;
  }

  /** The message at `seq`, kept or read (and then kept). */
  bySeq(seq: number): Message {
    const cached = this.recent.get(seq);
    if (cached !== undefined) return cached;
    const m = toMessage(this.conn.stmt('getMessageBySeq').get(seq) as MessageRow);
    this.remember(seq, m);
    return m;
  }
}
