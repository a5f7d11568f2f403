// Channels of the SQLite store: named groups of agents that messages can be sent to, with their
// members; auto-join channels take every agent that registers.
import type { Channel } from '../../domain/channel.js';
import { HubError } from '../../errors.js';
import { type ChannelRow, toChannel } from '../rows.js';
import type { NewChannel, Store } from '../store.js';
import type { Connection } from './connection.js';

export class Channels implements Pick<Store, 'createChannel' | 'getChannel' | 'listChannels' | 'joinChannel' | 'leaveChannel' | 'channelMembers' | 'autoJoin'> {
  constructor(private readonly conn: Connection) {}

  async createChannel(c: NewChannel): Promise<Channel> {
    this.conn.live();
    const r = this.conn.stmt('insertChannel').run({ name: c.name, description: c.description, auto_join: c.autoJoin ? 1 : 0, created_by: c.createdBy, created_at: c.createdAt });
    if (r.changes === 0) throw new HubError('channel_exists', `channel #${c.name} already exists`, { details: { channel: c.name } });
    return toChannel(this.conn.stmt('getChannel').get(c.name) as ChannelRow);
  }

  async getChannel(name: string): Promise<Channel | null> {
    this.conn.live();
    const row = this.conn.stmt('getChannel').get(name) as ChannelRow | undefined;
    return row === undefined ? null : toChannel(row);
  }

  async listChannels(): Promise<Channel[]> {
    this.conn.live();
    return (this.conn.stmt('listChannels').all() as ChannelRow[]).map(toChannel);
  }

  async joinChannel(name: string, agentId: string, at: number): Promise<boolean> {
    this.conn.live();
    return this.conn.stmt('joinChannel').run(name, agentId, at).changes > 0;
  }

  async leaveChannel(name: string, agentId: string): Promise<boolean> {
    this.conn.live();
    return this.conn.stmt('leaveChannel').run(name, agentId).changes > 0;
  }

  async channelMembers(name: string): Promise<string[]> {
    this.conn.live();
    return (this.conn.stmt('channelMembers').all(name) as { id: string }[]).map((r) => r.id);
  }

  async autoJoin(agentId: string, at: number): Promise<void> {
    this.conn.live();
    this.conn.stmt('autoJoin').run(agentId, at);
  }
}
