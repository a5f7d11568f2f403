// /v1/retention/run: retention now (admins), or what it would remove (dry_run).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { RetentionReportResponse, RetentionRunBody } from '../../api/schemas.js';
import type { Hub } from '../../hub/hub.js';

export function retentionRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/retention/run', {
      schema: { summary: 'Remove the acknowledged messages retention.messages no longer keeps (dry_run: only count them)', body: RetentionRunBody, response: { 200: RetentionReportResponse } },
      handler: async (req) => {
        const r = await hub.retention.runFor(req.actor, { dryRun: req.body?.dry_run === true });
        return {
          dry_run: r.dryRun,
          rules: r.rules,
          examined: r.examined,
          removed: r.removed,
          by_rule: r.byRule,
          newest_removed_at: r.newestRemovedAt === null ? null : new Date(r.newestRemovedAt).toISOString(),
          archive: r.archive,
          audit_removed: r.auditRemoved,
          ms: r.ms,
        };
      },
    });
  };
}
