// /v1/keys: encryption at rest (admins): which keys are in use, and key rotation as a background
// job (started here, answered at once; its progress read back while it runs).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { KeysStatusResponse, RotateBody, RotateResponse, WireKeyRotation } from '../../api/schemas.js';
import { wireKeyRotation } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function keyRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/keys', {
      schema: { summary: 'Whether messages are encrypted at rest, under which key ids, and the newest key rotation', response: { 200: KeysStatusResponse } },
      handler: async (req) => {
        const s = await hub.keys.status(req.actor);
        return { ...s, rotation: s.rotation === null ? null : wireKeyRotation(s.rotation) };
      },
    });
    app.post('/keys/rotate', {
      schema: {
        summary: 'Start a key rotation: switch to a new key and re-encrypt every stored message under it, in the background (202; 409 rotation_running while one runs)',
        body: RotateBody,
        response: { 202: RotateResponse },
      },
      handler: async (req, reply) => reply.code(202).send(wireKeyRotation(await hub.keys.rotate(req.actor, req.body.key))),
    });
    app.get('/keys/rotation', {
      schema: { summary: 'The newest key rotation and its progress (404 when none was started)', response: { 200: WireKeyRotation } },
      handler: async (req) => wireKeyRotation(await hub.keys.rotation(req.actor)),
    });
  };
}
