// The connection pool of the PostgreSQL adapter: one pool per store, no session state on its
// connections (SQL names its schema, qualify.ts; so PgBouncer in transaction mode can sit between),
// rows decoded the way the shared row mapping (../rows.ts) reads
// SQLite's: BIGINT as a JavaScript number (times in ms and sequence numbers stay far below 2^53),
// JSON and JSONB as their text.
import pg from 'pg';
import { HubError } from '../../errors.js';

/**
 * The runtime queries, one file per resource, one `-- name:` section per query (sql-files.ts
 * loadQueryDir), run as named prepared statements with positional parameters. Message rows are
 * selected with the same column list everywhere (never m.*: it would carry the search vector
 * along), and inbox rows add the delivery columns as d_*, so that rows map to domain objects like
 * SQLite's (rows.ts). Lists of values arrive as arrays and are expanded with unnest().
 */
export const QUERIES_DIR = new URL('queries/', import.meta.url);

const { types } = pg;

const decodeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === types.builtins.INT8) return (v: string) => Number(v);
    if (oid === types.builtins.JSON || oid === types.builtins.JSONB) return (v: string) => v;
    return types.getTypeParser(oid, format as 'text');
  }) as typeof types.getTypeParser,
};

export interface PoolOptions {
  url: string;
  size: number;
}

export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: o.url, max: o.size, types: decodeTypes, connectionTimeoutMillis: 10_000 });
  // An idle connection that breaks (server restart, network) is dropped by the pool; the next
  // query opens a new one. Without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database';
  }
}

const NODE_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * A named statement this connection prepared is missing (26000), or one of that name exists that
 * it did not prepare (42P05): the connection is a pooler's in transaction mode, which hands each
 * transaction whichever server connection is free (PgBouncer before 1.21 does not follow named
 * statements). Worse than failing, a statement of the same name prepared by another version of the
 * hub could run instead, so this is a configuration error, not a passing one.
 */
const PREPARED_ELSEWHERE = new Set(['26000', '42P05']);

/**
 * Connection failures (SQLSTATE class 08, server shutting down 57P01-57P03, socket errors) become
 * `store_unavailable`; named statements lost behind a pooler `config_invalid`; anything else is
 * returned as it is (pg's own errors without a code, such as a connection ended mid-query, too:
 * their message is all they carry).
 */
export function storeError(e: unknown): unknown {
  if (e instanceof HubError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && PREPARED_ELSEWHERE.has(code)) {
    return new HubError(
      'config_invalid',
      `${e.message}: store.database looks like a pooler in transaction mode (such as PgBouncer), which does not keep named statements; set store.prepare to false (SWARM_DB_PREPARE=false)`,
      { cause: e },
    );
  }
  const lost = typeof code === 'string' && (code.startsWith('08') || /^57P0[123]$/.test(code) || NODE_CONNECTION_ERRORS.has(code));
  return lost ? new HubError('store_unavailable', `PostgreSQL is unreachable: ${e.message}`, { cause: e }) : e;
}
