// Reports: long markdown documents, stored as `report` messages (subject = title), posted to a
// channel (#reports by default) or to agents, listed and searched like any message.
import type { Message } from '../domain/message.js';
import { HubError } from '../errors.js';
import type { Actor } from './actor.js';
import type { Messages, SendResult } from './messages.js';

export class Reports {
  constructor(
    private readonly messages: Messages,
    private readonly maxBytes: () => number,
  ) {}

  async post(actor: Actor, r: { title: string; body: string; to?: string | string[] | undefined; tags?: string[] | undefined }): Promise<SendResult> {
    if (r.title.trim() === '') throw new HubError('validation_failed', 'a report needs a title');
    const size = Buffer.byteLength(r.body, 'utf8');
    if (size > this.maxBytes()) {
      throw new HubError('payload_too_large', `the report is ${size} bytes; the limit is ${this.maxBytes()} (setting limits.reportBytes)`);
    }
    return this.messages.send(actor, { to: r.to ?? '#reports', type: 'report', subject: r.title, body: r.body, tags: r.tags });
  }

  /** Reports the caller may see (members see their channels' reports), newest first. */
  async list(actor: Actor, q: { channel?: string | undefined; search?: string | undefined; limit: number }): Promise<Message[]> {
    return this.messages.history(actor, { type: 'report', channel: q.channel, search: q.search, limit: q.limit });
  }

  /** One report and who received it. */
  async show(actor: Actor, id: string): Promise<{ message: Message; recipients: string[] }> {
    const r = await this.messages.get(actor, id);
    if (r.message.type !== 'report') throw new HubError('message_not_found', `${id} is a ${r.message.type} message, not a report`);
    return r;
  }
}
