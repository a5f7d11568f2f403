// Channels: create, join, leave, list, members. Posting is a send to `#name` (see messages.ts).
import type { Channel } from '../domain/channel.js';
import { CHANNEL_NAME_PATTERN } from '../domain/channel.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize, may } from './actor.js';

/** `#deployments` or `deployments` -> `deployments`, checked. */
export function channelName(input: string): string {
  const name = input.startsWith('#') ? input.slice(1) : input;
  if (!CHANNEL_NAME_PATTERN.test(name)) {
    throw new HubError('validation_failed', `'${input}' is not a channel name: lower-case letters, digits, . _ - (at most 50), written #name`);
  }
  return name;
}

export class Channels {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async create(actor: Actor, input: { name: string; description?: string | undefined; autoJoin?: boolean | undefined }): Promise<Channel> {
    authorize(actor, 'channel.create', 'create channels');
    const name = channelName(input.name);
    if (input.autoJoin === true) authorize(actor, 'channel.post.any', 'create auto-join channels');
    const channel = await this.store.createChannel({ name, description: input.description ?? '', autoJoin: input.autoJoin === true, createdBy: actor.self.id, createdAt: this.now() });
    await this.store.joinChannel(name, actor.self.id, this.now());
    return { ...channel, members: channel.members + 1 };
  }

  async must(name: string): Promise<Channel> {
    const c = await this.store.getChannel(channelName(name));
    if (c === null) throw new HubError('channel_not_found', `no channel #${channelName(name)} (see \`swarm channel list\`)`, { details: { channel: name } });
    return c;
  }

  async list(actor: Actor): Promise<(Channel & { member: boolean })[]> {
    authorize(actor, 'agent.list', 'see channels');
    const channels = await this.store.listChannels();
    return Promise.all(channels.map(async (c) => ({ ...c, member: (await this.store.channelMembers(c.name)).includes(actor.self.id) })));
  }

  async join(actor: Actor, name: string): Promise<{ channel: string; joined: boolean }> {
    authorize(actor, 'channel.create', 'join channels');
    const c = await this.must(name);
    return { channel: c.name, joined: await this.store.joinChannel(c.name, actor.self.id, this.now()) };
  }

  async leave(actor: Actor, name: string): Promise<{ channel: string; left: boolean }> {
    authorize(actor, 'channel.create', 'leave channels');
    const c = await this.must(name);
    return { channel: c.name, left: await this.store.leaveChannel(c.name, actor.self.id) };
  }

  async members(actor: Actor, name: string): Promise<string[]> {
    authorize(actor, 'agent.list', 'see channel members');
    return this.store.channelMembers((await this.must(name)).name);
  }

  /** Members may read and post; captains and admins acting as themselves too. */
  async mayUse(actor: Actor, name: string): Promise<boolean> {
    if (actor.self.id === actor.principal.id && may(actor, 'channel.post.any')) return true;
    return (await this.store.channelMembers(name)).includes(actor.self.id);
  }
}
