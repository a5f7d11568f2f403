// /v1/backups: backups of the embedded store taken by the hub while it serves, and their list
// (admins). Paths are on the hub's host.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BackupCreateBody, BackupCreatedResponse, BackupListQuery, BackupsResponse } from '../../api/schemas.js';
import type { Hub } from '../../hub/hub.js';

export function backupRoutes(hub: Hub, version: string): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/backups', {
      schema: { summary: 'Copy the embedded store into a backup directory with its manifest, while serving (admins)', body: BackupCreateBody, response: { 201: BackupCreatedResponse } },
      handler: async (req, reply) => {
        const r = await hub.backups.create(req.actor, { to: req.body?.to, hubVersion: version });
        return reply.code(201).send(r);
      },
    });
    app.get('/backups', {
      schema: { summary: 'The backups in a directory, newest first (admins)', querystring: BackupListQuery, response: { 200: BackupsResponse } },
      handler: async (req) => hub.backups.list(req.actor, req.query.dir),
    });
  };
}
