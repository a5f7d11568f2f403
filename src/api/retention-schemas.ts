// The wire schemas of POST /v1/retention/run. Re-exported by schemas.ts.
import { z } from 'zod';
import { Time } from './primitives.js';

export const RetentionRunBody = z.strictObject({ dry_run: z.boolean().optional().describe('report what would go, remove nothing') }).nullish();
export const RetentionReportResponse = z.object({
  dry_run: z.boolean(),
  rules: z.string().describe('retention.messages as configured'),
  examined: z.number().int().describe('messages old enough for the shortest rule, every delivery closed'),
  removed: z.number().int().describe('removed (or that would be, on a dry run)'),
  by_rule: z.record(z.string(), z.number().int()),
  newest_removed_at: Time.nullable(),
  archive: z.string().nullable().describe('the archive file written to, when retention.archiveDir is set'),
  audit_removed: z.number().int().describe('audit records removed (or that would be), retention.auditDays'),
  ms: z.number(),
});
export type RetentionReportResponse = z.infer<typeof RetentionReportResponse>;
