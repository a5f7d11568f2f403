// Delivery targets (hub/targets.ts): /v1/agents/:id/targets to add and list one agent's,
// /v1/targets for all of them, their status, removal, retry of dead pushes and a test push.
// A webhook's secret is in the answer to create only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  TargetAgentParams,
  TargetCreateBody,
  TargetCreatedResponse,
  TargetIdParams,
  TargetListQuery,
  TargetRemovedResponse,
  TargetRetriedResponse,
  TargetsResponse,
  TargetStatusResponse,
  TargetTestResponse,
} from '../../api/schemas.js';
import { targetInput, wireTarget, wireTargetStatus } from '../../api/target-wire.js';
import { deliver } from '../../delivery/deliverer.js';
import { configOf } from '../../delivery/runner.js';
import { SYSTEM_ID } from '../../domain/agent.js';
import { newId } from '../../domain/ids.js';
import type { Message } from '../../domain/message.js';
import type { Hub } from '../../hub/hub.js';

/** What `swarm targets test` pushes: marked as a test in its subject, tags and metadata. */
function testMessage(agent: string, by: string, now: number): Message {
  const id = newId(now);
  return {
    id,
    sender: SYSTEM_ID,
    to: [agent],
    kind: 'S2A',
    type: 'system',
    priority: 'regular',
    subject: 'Delivery target test',
    body: `A test push from the Swarm hub, asked for by ${by}. Nothing to do: it is not in your inbox.`,
    tags: ['test'],
    threadId: id,
    replyTo: null,
    metadata: { test: true },
    createdAt: now,
    expiresAt: null,
    idempotencyKey: null,
  };
}

export function targetRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/agents/:id/targets', {
      schema: { summary: 'Add a delivery target for the agent: webhook, file, tmux or command, with a filter', params: TargetAgentParams, body: TargetCreateBody, response: { 201: TargetCreatedResponse } },
      handler: async (req, reply) => {
        const r = await hub.targets.add(req.actor, req.params.id, targetInput(req.body));
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ target: wireTarget(r.target), secret: r.secret });
      },
    });
    app.get('/agents/:id/targets', {
      schema: { summary: 'The agent’s delivery targets (never their secrets)', params: TargetAgentParams, response: { 200: TargetsResponse } },
      handler: async (req) => ({ targets: (await hub.targets.list(req.actor, req.params.id)).map(wireTarget) }),
    });
    app.get('/targets', {
      schema: { summary: 'Delivery targets of one agent (?agent=), or of all (captains, admins)', querystring: TargetListQuery, response: { 200: TargetsResponse } },
      handler: async (req) => ({ targets: (await hub.targets.list(req.actor, req.query.agent ?? null)).map(wireTarget) }),
    });
    app.get('/targets/status', {
      schema: {
        summary: 'Each target with its queue (pending, dead, oldest), breaker, last success and last error',
        querystring: TargetListQuery,
        response: { 200: TargetStatusResponse },
      },
      handler: async (req) => ({ targets: (await hub.targets.status(req.actor, req.query.agent ?? null)).map(wireTargetStatus) }),
    });
    app.delete('/targets/:id', {
      schema: { summary: 'Remove a delivery target and its queue of pushes', params: TargetIdParams, response: { 200: TargetRemovedResponse } },
      handler: async (req) => ({ removed: wireTarget(await hub.targets.remove(req.actor, req.params.id)) }),
    });
    app.post('/targets/:id/test', {
      schema: { summary: 'Push a test message to the target now, outside its queue, and say how it went', params: TargetIdParams, response: { 200: TargetTestResponse } },
      handler: async (req) => {
        const t = await hub.targets.forTest(req.actor, req.params.id);
        const o = await deliver(configOf(t), { agent: t.agentId, message: testMessage(t.agentId, req.actor.self.id, hub.now()), attempt: 1 });
        return o.ok ? { ok: true, ms: o.ms, reason: null, error: null } : { ok: false, ms: o.ms, reason: o.reason, error: o.error };
      },
    });
    app.post('/targets/:id/retry', {
      schema: { summary: 'Put the target’s dead pushes back in its queue, attempts reset', params: TargetIdParams, response: { 200: TargetRetriedResponse } },
      handler: async (req) => ({ retried: await hub.targets.retry(req.actor, req.params.id) }),
    });
  };
}
