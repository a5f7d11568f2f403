// /v1/channels: create, list, join, leave, members, history.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ChannelBody,
  ChannelHistoryQuery,
  ChannelParams,
  ChannelResponse,
  ChannelsResponse,
  MembershipResponse,
  MembersResponse,
  MessagesResponse,
} from '../../api/schemas.js';
import { wireChannel, wireMessage } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function channelRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/channels', {
      schema: { summary: 'Channels with member counts, and whether the caller is a member', response: { 200: ChannelsResponse } },
      handler: async (req) => ({ channels: (await hub.channels.list(req.actor)).map(wireChannel) }),
    });
    app.post('/channels', {
      schema: { summary: 'Create a channel (the creator joins it)', body: ChannelBody, response: { 201: ChannelResponse } },
      handler: async (req, reply) =>
        reply.code(201).send({ channel: wireChannel(await hub.channels.create(req.actor, { name: req.body.name, description: req.body.description, autoJoin: req.body.auto_join })) }),
    });
    app.post('/channels/:name/join', {
      schema: { summary: 'Join a channel', params: ChannelParams, response: { 200: MembershipResponse } },
      handler: async (req) => {
        const r = await hub.channels.join(req.actor, req.params.name);
        return { channel: r.channel, changed: r.joined };
      },
    });
    app.post('/channels/:name/leave', {
      schema: { summary: 'Leave a channel', params: ChannelParams, response: { 200: MembershipResponse } },
      handler: async (req) => {
        const r = await hub.channels.leave(req.actor, req.params.name);
        return { channel: r.channel, changed: r.left };
      },
    });
    app.get('/channels/:name/members', {
      schema: { summary: 'Members of a channel', params: ChannelParams, response: { 200: MembersResponse } },
      handler: async (req) => {
        const members = await hub.channels.members(req.actor, req.params.name);
        return { channel: req.params.name.replace(/^#/, ''), members };
      },
    });
    app.get('/channels/:name/history', {
      schema: { summary: 'Messages posted to a channel, newest first (members)', params: ChannelParams, querystring: ChannelHistoryQuery, response: { 200: MessagesResponse } },
      handler: async (req) => {
        const q = req.query;
        const messages = await hub.messages.history(req.actor, {
          channel: req.params.name,
          search: q.search,
          since: q.since === undefined ? undefined : Date.parse(q.since),
          limit: q.limit,
        });
        return { messages: messages.map(wireMessage) };
      },
    });
  };
}
