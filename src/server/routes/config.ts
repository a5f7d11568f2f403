// /v1/config: the versioned shared settings (the configuration service; `--role config` serves
// only these). Reading is for everyone; changing and rolling back for admins.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HistoryLimitQuery, RollbackBody, SettingBody, SettingChangesResponse, SettingParams, SettingsResponse } from '../../api/schemas.js';
import type { Hub } from '../../hub/hub.js';
import type { SettingChange } from '../../store/store.js';

const wireChange = (c: SettingChange) => ({
  version: c.version,
  key: c.key,
  value: c.value,
  previous: c.previous,
  author: c.author,
  note: c.note,
  created_at: new Date(c.createdAt).toISOString(),
});

export function configRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/config', {
      schema: { summary: 'Shared settings: their values, and whether the hub or the local configuration sets them', response: { 200: SettingsResponse } },
      handler: async (req) => ({ version: await hub.settings.storedVersion(), settings: hub.settings.list(req.actor) }),
    });
    app.put('/config/:key', {
      schema: { summary: 'Change a shared setting (admins): a new version, applied in every hub process', params: SettingParams, body: SettingBody, response: { 200: SettingChangesResponse } },
      handler: async (req) => ({ changes: [wireChange(await hub.settings.set(req.actor, req.params.key, req.body.value))] }),
    });
    app.get('/config/history', {
      schema: { summary: 'Changes of the shared settings, newest first', querystring: HistoryLimitQuery, response: { 200: SettingChangesResponse } },
      handler: async (req) => ({ changes: (await hub.settings.history(req.actor, req.query.limit)).map(wireChange) }),
    });
    app.post('/config/rollback', {
      schema: { summary: 'Set every shared setting back to its value at a version (as new versions)', body: RollbackBody, response: { 200: SettingChangesResponse } },
      handler: async (req) => ({ changes: (await hub.settings.rollback(req.actor, req.body.version)).map(wireChange) }),
    });
  };
}
