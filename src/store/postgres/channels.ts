// Channels of the PostgreSQL store and their members.
import type { Channel } from '../../domain/channel.js';
import { HubError } from '../../errors.js';
import { type ChannelRow, toChannel } from '../rows.js';
import type { NewChannel, Store } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

export class Channels implements Pick<Store, 'createChannel' | 'getChannel' | 'listChannels' | 'joinChannel' | 'leaveChannel' | 'channelMembers' | 'autoJoin'> {
  constructor(private readonly conn: Connection) {}

  async createChannel(c: NewChannel): Promise<Channel> {
    this.conn.live();
    const bad = refuseNul('the channel', c.name, c.description, c.createdBy);
    if (bad !== null) throw bad;
    const created = await this.conn.q('insertChannel', [c.name, c.description, c.autoJoin, c.createdBy, c.createdAt]);
    if (created.rowCount === 0) throw new HubError('channel_exists', `channel #${c.name} already exists`, { details: { channel: c.name } });
    const [row] = await this.conn.rows<ChannelRow>('getChannel', [c.name]);
    if (row === undefined) throw new HubError('internal', `channel #${c.name} vanished right after it was created`);
    return toChannel(row);
  }

  async getChannel(name: string): Promise<Channel | null> {
    this.conn.live();
    if (name.includes('\0')) return null;
    const [row] = await this.conn.rows<ChannelRow>('getChannel', [name]);
    return row === undefined ? null : toChannel(row);
  }

  async listChannels(): Promise<Channel[]> {
    this.conn.live();
    return (await this.conn.rows<ChannelRow>('listChannels', [])).map(toChannel);
  }

  async joinChannel(name: string, agentId: string, at: number): Promise<boolean> {
    this.conn.live();
    const bad = refuseNul('the channel membership', name, agentId);
    if (bad !== null) throw bad;
    return ((await this.conn.q('joinChannel', [name, agentId, at])).rowCount ?? 0) > 0;
  }

  async leaveChannel(name: string, agentId: string): Promise<boolean> {
    this.conn.live();
    if (refuseNul('', name, agentId) !== null) return false;
    return ((await this.conn.q('leaveChannel', [name, agentId])).rowCount ?? 0) > 0;
  }

  async channelMembers(name: string): Promise<string[]> {
    this.conn.live();
    if (name.includes('\0')) return [];
    return (await this.conn.rows<{ id: string }>('channelMembers', [name])).map((r) => r.id);
  }

  async autoJoin(agentId: string, at: number): Promise<void> {
    this.conn.live();
    await this.conn.q('autoJoin', [agentId, at]);
  }
}
