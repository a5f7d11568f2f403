// /v1/audit: the audit trail, for admins. Verification answers 200 with `ok: false` and the
// problems when the chain is broken (the request itself succeeded); the CLI turns that into
// exit code 12 (`audit_broken`).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditListQuery, AuditRecordsResponse, AuditVerifyQuery, AuditVerifyResponse } from '../../api/schemas.js';
import type { AuditRecord } from '../../domain/audit.js';
import type { Hub } from '../../hub/hub.js';

const iso = (ms: number): string => new Date(ms).toISOString();

const wireRecord = (r: AuditRecord) => ({
  seq: r.seq,
  at: iso(r.at),
  actor: r.actor,
  action: r.action,
  target: r.target,
  request_id: r.requestId,
  outcome: r.outcome,
  detail: r.detail,
  prev_hash: r.prevHash,
  hash: r.hash,
});

export function auditRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit', {
      schema: { summary: 'Audit records, newest first (admins)', querystring: AuditListQuery, response: { 200: AuditRecordsResponse } },
      handler: async (req) => {
        const q = req.query;
        const records = await hub.audit.list(req.actor, { since: q.since === undefined ? undefined : Date.parse(q.since), actor: q.actor, action: q.action, limit: q.limit });
        return { records: records.map(wireRecord) };
      },
    });
    app.get('/audit/verify', {
      schema: {
        summary: 'Walk the audit chain and report every edited, deleted or reordered record (admins)',
        querystring: AuditVerifyQuery,
        response: { 200: AuditVerifyResponse },
      },
      handler: async (req) => {
        const [seq, hash] = req.query.anchor?.split(':') ?? [];
        const r = await hub.audit.verify(req.actor, seq === undefined || hash === undefined ? null : { seq: Number(seq), hash });
        return {
          ok: r.ok,
          records: r.records,
          head: r.head === null ? null : { seq: r.head.seq, hash: r.head.hash, at: iso(r.head.at) },
          starts_after: r.startsAfter,
          problem_count: r.problemCount,
          problems: r.problems,
        };
      },
    });
  };
}
