// The wire schemas of /v1/backups (swarm backup create | list). Re-exported by schemas.ts.
import { z } from 'zod';

export const BackupCreateBody = z.strictObject({ to: z.string().max(4096).regex(/^\//, 'an absolute path').optional().describe('absolute path of a directory on the hub’s host to write the backup into (default <data.dir>/backups)') }).nullish();
export const BackupListQuery = z.strictObject({ dir: z.string().max(4096).regex(/^\//, 'an absolute path').optional().describe('absolute path of the directory to list (default <data.dir>/backups)') });

export const BackupManifestWire = z.object({
  format: z.string(),
  id: z.string(),
  created_at: z.string(),
  hub_version: z.string(),
  schema_version: z.number().int(),
  store: z.enum(['sqlite', 'postgres']),
  file: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  tables: z.record(z.string(), z.number().int()),
  audit_head: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
  encryption: z.object({ encrypted: z.boolean(), key_ids: z.array(z.string()) }),
  verified_at: z.string().nullable().describe('when `swarm backup verify` last passed; null: never verified'),
});
export type BackupManifestWire = z.infer<typeof BackupManifestWire>;

export const BackupCreatedResponse = z.object({ dir: z.string().describe('the backup’s directory on the hub’s host'), manifest: BackupManifestWire });
export type BackupCreatedResponse = z.infer<typeof BackupCreatedResponse>;
export const BackupsResponse = z.object({ dir: z.string(), backups: z.array(BackupManifestWire) });
export type BackupsResponse = z.infer<typeof BackupsResponse>;
