// /v1/agents, /v1/status, /v1/heartbeat, /v1/whoami, /v1/onboard, /v1/wrapup: the roster.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AgentParams,
  AgentResponse,
  AgentsResponse,
  OnboardBody,
  OnboardResponse,
  RegisterBody,
  RegisterResponse,
  StatusBody,
  WhoamiResponse,
  WrapupBody,
  WrapupResponse,
} from '../../api/schemas.js';
import { wireAgent } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function agentRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/agents', {
      schema: { summary: 'The roster with presence', response: { 200: AgentsResponse } },
      handler: async (req) => ({ agents: (await hub.agents.list(req.actor)).map(wireAgent) }),
    });

    app.get('/agents/:id', {
      schema: { summary: 'One agent', params: AgentParams, response: { 200: AgentResponse } },
      handler: async (req) => ({ agent: wireAgent(await hub.agents.get(req.actor, req.params.id)) }),
    });

    app.post('/agents', {
      schema: { summary: 'Register an agent and issue its token', body: RegisterBody, response: { 201: RegisterResponse } },
      handler: async (req, reply) => {
        const r = await hub.agents.register(req.actor, req.body);
        // The answer carries a secret: no cache keeps it (docs/security.md).
        return reply.code(201).header('cache-control', 'no-store').send({ agent: wireAgent(r.agent), token: r.token });
      },
    });

    app.delete('/agents/:id', {
      schema: { summary: 'Remove an agent and revoke its tokens (its messages stay in history)', params: AgentParams },
      handler: async (req, reply) => {
        await hub.agents.remove(req.actor, req.params.id);
        return reply.code(204).send();
      },
    });

    app.put('/status', {
      schema: { summary: 'Set the caller’s status and mission', body: StatusBody, response: { 200: AgentResponse } },
      handler: async (req) => ({ agent: wireAgent(await hub.agents.setStatus(req.actor, req.body.status, req.body.mission)) }),
    });

    app.post('/heartbeat', {
      schema: { summary: 'Mark the caller as alive (any authenticated call does too)', response: { 200: AgentResponse } },
      handler: async (req) => {
        return { agent: wireAgent(await hub.agents.heartbeat(req.actor)) };
      },
    });

    app.get('/whoami', {
      schema: { summary: 'Who the token belongs to, and whom the call acts as', response: { 200: WhoamiResponse } },
      handler: async (req) => {
        const r = hub.agents.identity(req.actor);
        return { principal: wireAgent(r.principal), self: wireAgent(r.self) };
      },
    });

    app.post('/onboard', {
      schema: { summary: 'Register an agent, issue its token and send the onboarding message', body: OnboardBody, response: { 201: OnboardResponse } },
      handler: async (req, reply) => {
        const r = await hub.onboarding.onboard(req.actor, req.body);
        return reply.code(201).header('cache-control', 'no-store').send({ agent: wireAgent(r.agent), token: r.token, message_id: r.message.message.id });
      },
    });

    app.post('/wrapup', {
      schema: { summary: 'Send the end-of-cycle message to one agent or all', body: WrapupBody, response: { 200: WrapupResponse } },
      handler: async (req) => {
        const sent = await hub.onboarding.wrapup(req.actor, req.body.to);
        return { message_ids: sent.map((s) => s.message.id), recipients: sent.flatMap((s) => s.recipients) };
      },
    });
  };
}
