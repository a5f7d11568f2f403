// /v1/tokens: issue, list, revoke and rotate bearer tokens (admins: operation token.manage).
// A token's secret is in the answer to create and rotate only; lists never carry it.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  TokenCreateBody,
  TokenCreatedResponse,
  TokenIdParams,
  TokenListQuery,
  TokenRevokedResponse,
  TokenRotateBody,
  TokenRotatedResponse,
  TokensResponse,
} from '../../api/schemas.js';
import { wireToken } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function tokenRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/tokens', {
      schema: { summary: 'Issue a token for an agent, with an optional expiry and scopes (shown once)', body: TokenCreateBody, response: { 201: TokenCreatedResponse } },
      handler: async (req, reply) => {
        const r = await hub.tokens.create(req.actor, { agent: req.body.agent, expiresInSeconds: req.body.expires_in_seconds, scopes: req.body.scopes, label: req.body.label });
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ token: r.token, info: wireToken(r.info, hub.now()) });
      },
    });
    app.get('/tokens', {
      schema: { summary: 'Live tokens (of one agent, or all), without their secrets', querystring: TokenListQuery, response: { 200: TokensResponse } },
      handler: async (req) => {
        const now = hub.now();
        return { tokens: (await hub.tokens.list(req.actor, req.query.agent)).map((t) => wireToken(t, now)) };
      },
    });
    app.delete('/tokens/:id', {
      schema: { summary: 'Revoke a token: calls with it fail at once, and its open streams end (4001)', params: TokenIdParams, response: { 200: TokenRevokedResponse } },
      handler: async (req) => ({ revoked: wireToken(await hub.tokens.revoke(req.actor, req.params.id), hub.now()) }),
    });
    app.post('/tokens/:id/rotate', {
      schema: { summary: 'Issue a replacement (same agent, label, scopes) and revoke the token', params: TokenIdParams, body: TokenRotateBody, response: { 200: TokenRotatedResponse } },
      handler: async (req, reply) => {
        const r = await hub.tokens.rotate(req.actor, req.params.id, req.body?.expires_in_seconds);
        reply.header('cache-control', 'no-store');
        return { token: r.token, info: wireToken(r.info, hub.now()), revoked: r.revoked };
      },
    });
  };
}
