// /v1/keys: encryption at rest (admins): which keys are in use, and rotation while serving.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { KeysStatusResponse, RotateBody, RotateResponse } from '../../api/schemas.js';
import type { Hub } from '../../hub/hub.js';

export function keyRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/keys', {
      schema: { summary: 'Whether messages are encrypted at rest, and under which key ids', response: { 200: KeysStatusResponse } },
      handler: async (req) => hub.keys.status(req.actor),
    });
    app.post('/keys/rotate', {
      schema: { summary: 'Switch to a new key and re-encrypt every stored message under it (while serving)', body: RotateBody, response: { 200: RotateResponse } },
      handler: async (req) => hub.keys.rotate(req.actor, req.body.key),
    });
  };
}
