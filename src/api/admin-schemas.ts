// The administration's wire schemas: shared settings, encryption keys, the audit trail and tokens
// (admins, and the config role). Re-exported by schemas.ts, where callers import them.
import { z } from 'zod';
import { AgentId, Time } from './primitives.js';

// ---- shared settings (the configuration service) -------------------------------------------------

export const SettingParams = z.strictObject({ key: z.string().regex(/^[a-z]+\.[A-Za-z]+$/, 'a setting key like presence.idleSeconds') });
export const SettingBody = z.strictObject({ value: z.union([z.string(), z.number(), z.boolean()]) });
export const WireSetting = z.object({ key: z.string(), value: z.unknown(), source: z.enum(['hub', 'local']), version: z.number().nullable() });
export const SettingsResponse = z.object({ version: z.number(), settings: z.array(WireSetting) });
export type SettingsResponse = z.infer<typeof SettingsResponse>;
export const WireSettingChange = z.object({
  version: z.number(),
  key: z.string(),
  value: z.unknown(),
  previous: z.unknown(),
  author: z.string(),
  note: z.string(),
  created_at: z.string(),
});
export const SettingChangesResponse = z.object({ changes: z.array(WireSettingChange) });
export type SettingChangesResponse = z.infer<typeof SettingChangesResponse>;
export const HistoryLimitQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
export const RollbackBody = z.strictObject({ version: z.number().int().min(0) });

// ---- encryption keys --------------------------------------------------------------------------------

export const WireKeyRotation = z.object({
  id: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  key: z.string().describe('the key id messages are re-encrypted under'),
  previous: z.string().describe('the key id that was current when it started'),
  scanned: z.number(),
  rewritten: z.number(),
  skipped: z.number().describe('messages that could not be read (they fail authentication, or their key is missing), left as they are'),
  total: z.number().describe('messages stored when it started'),
  started_by: z.string(),
  started_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  error: z.string().nullable(),
});
export type WireKeyRotation = z.infer<typeof WireKeyRotation>;
export const KeysStatusResponse = z.object({ enabled: z.boolean(), current: z.string().nullable(), keys: z.array(z.string()), rotation: WireKeyRotation.nullable() });
export type KeysStatusResponse = z.infer<typeof KeysStatusResponse>;
export const RotateBody = z.strictObject({ key: z.string().min(1).max(4096).optional().describe('the new key (base64 of 32 bytes, or hex:…); omitted: re-encrypt what is not yet under the current key') });
export const RotateResponse = WireKeyRotation;
export type RotateResponse = z.infer<typeof RotateResponse>;
// ---- audit trail (admins) --------------------------------------------------------------------------

export const AuditListQuery = z.strictObject({
  since: Time.optional(),
  actor: z.string().min(1).max(200).optional(),
  action: z.string().regex(/^[a-z]+(\.[a-z_]+)*$/, 'an action like act.as or config.set').max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
export const WireAuditRecord = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  request_id: z.string().nullable(),
  outcome: z.enum(['ok', 'denied', 'failed']),
  detail: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});
export type WireAuditRecord = z.infer<typeof WireAuditRecord>;
export const AuditRecordsResponse = z.object({ records: z.array(WireAuditRecord) });
export type AuditRecordsResponse = z.infer<typeof AuditRecordsResponse>;
export const AuditVerifyQuery = z.strictObject({
  anchor: z
    .string()
    .regex(/^\d+:[0-9a-f]{64}$/, 'an anchor SEQ:HASH, as printed by an earlier verify (head)')
    .optional()
    .describe('an earlier head, SEQ:HASH: that record must still be there, unchanged'),
});
export const AuditVerifyResponse = z.object({
  ok: z.boolean(),
  records: z.number(),
  head: z.object({ seq: z.number(), hash: z.string(), at: z.string() }).nullable(),
  starts_after: z.number().describe('records up to this seq were removed by retention (retention.auditDays): the chain is proven from there; 0: whole'),
  problem_count: z.number(),
  problems: z.array(
    z.object({
      kind: z.enum(['edited', 'reordered', 'missing', 'broken_link', 'time_order', 'anchor']),
      seq: z.number(),
      seqs: z.array(z.number()).optional(),
      message: z.string(),
    }),
  ),
});
export type AuditVerifyResponse = z.infer<typeof AuditVerifyResponse>;
// ---- tokens (admins) ------------------------------------------------------------------------
export const WireToken = z.object({
  id: z.string(),
  agent: z.string(),
  label: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable().describe('null: never expires'),
  scopes: z.array(z.string()).nullable().describe('operations the token is limited to; null: whatever the role allows'),
  last_used_at: z.string().nullable().describe('approximate: recorded at most once a minute'),
  expired: z.boolean(),
});
export type WireToken = z.infer<typeof WireToken>;
export const TokenIdParams = z.strictObject({ id: z.string().min(1).max(100) });
export const TokenCreateBody = z.strictObject({
  agent: AgentId,
  expires_in_seconds: z.number().int().min(1).max(10 * 365 * 86400).optional().describe('lifetime; absent: never expires'),
  scopes: z.array(z.string().regex(/^[a-z]+\.[a-z.]+$/, 'an operation name, e.g. message.send')).min(1).max(64).optional(),
  label: z.string().max(200).optional(),
});
export type TokenCreateBody = z.input<typeof TokenCreateBody>;
export const TokenRotateBody = z.strictObject({ expires_in_seconds: z.number().int().min(1).max(10 * 365 * 86400).optional() }).nullish();
export const TokenListQuery = z.strictObject({ agent: AgentId.optional() });
export const TokenCreatedResponse = z.object({ token: z.string().describe('shown once; stored only as a hash'), info: WireToken });
export type TokenCreatedResponse = z.infer<typeof TokenCreatedResponse>;
export const TokenRotatedResponse = TokenCreatedResponse.extend({ revoked: z.string() });
export type TokenRotatedResponse = z.infer<typeof TokenRotatedResponse>;
export const TokensResponse = z.object({ tokens: z.array(WireToken) });
export type TokensResponse = z.infer<typeof TokensResponse>;
export const TokenRevokedResponse = z.object({ revoked: WireToken });
export type TokenRevokedResponse = z.infer<typeof TokenRevokedResponse>;
