// Runtime SQL names its schema: every table, sequence and function of the store is written
// `"schema".name` when the queries are loaded, so no statement depends on a connection's
// search_path. That is what lets the pooled connections go through PgBouncer in transaction mode,
// where a `SET search_path` made on one client's turn would leak to another's, and where session
// settings cannot be relied on at all (issue 11). Queries are written unqualified in queries/*.sql
// for reading; `qualify` adds the schema to the names below, and the conformance suite runs with
// no search_path set, so a name missing here fails every test that uses it.
import { quoteIdent } from './migrate.js';

/** Every table of the migrations (test/unit/postgres-qualify.test.ts checks the list against them). */
export const TABLES = [
  'agents',
  'tokens',
  'messages',
  'deliveries',
  'channels',
  'channel_members',
  'message_channels',
  'tasks',
  'reviews',
  'templates',
  'settings',
  'audit',
  'directory_version',
  'queue_counts',
  'sweep_marks',
  'rate_buckets',
  'key_rotations',
  'targets',
  'target_deliveries',
  'audit_checkpoint',
  'schema_migrations',
] as const;

const TABLE_REF = new RegExp(`\\b(FROM|JOIN|INTO|UPDATE|TABLE)(\\s+)(${TABLES.join('|')})\\b`, 'g');

export function qualify(sql: string, schema: string): string {
  const s = quoteIdent(schema);
  return sql
    .replace(TABLE_REF, `$1$2${s}.$3`)
    .replace(/\bswarm_(unaccent|take_tokens)\(/g, `${s}.swarm_$1(`)
    .replace(/nextval\('handouts'\)/g, `nextval('${s.replaceAll("'", "''")}.handouts')`);
}

/** Every query of a file, qualified. */
export function qualifyAll(queries: Record<string, string>, schema: string): Record<string, string> {
  return Object.fromEntries(Object.entries(queries).map(([name, sql]) => [name, qualify(sql, schema)]));
}
