// `swarm migrate`: copies an embedded hub (the SQLite file) into PostgreSQL, table by table, and
// verifies row counts after. The PostgreSQL schema is created by its own migrations first; rows
// are converted by the target column's type (JSON text to JSON, blobs to bytea, 0/1 to booleans)
// and inserted in batches through json_populate_recordset. Sequences are moved past the copied
// numbers so new messages, hand-outs and versions continue after them.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { HubError } from '../errors.js';
import { redactUrl } from './postgres/connection.js';
import { quoteIdent } from './postgres/migrate.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { verifyChain } from './audit-chain.js';
import { DB_FILE, SqliteStore } from './sqlite/sqlite-store.js';

/** In dependency order; every table of the hub's state (the search index is rebuilt by PostgreSQL). */
export const TABLES = ['agents', 'tokens', 'messages', 'deliveries', 'channels', 'channel_members', 'message_channels', 'tasks', 'reviews', 'templates', 'settings', 'audit', 'audit_checkpoint', 'key_rotations', 'targets', 'target_deliveries'] as const;

export interface TransferResult {
  tables: { table: string; source: number; target: number }[];
  /** The audit chain verified in the copy (records and head), after checking the source's. */
  audit: { records: number; head: string | null };
  seconds: number;
}

const BATCH = 2000;

export async function transfer(o: { from: string; to: string; schema?: string | undefined; onTable?: (table: string, rows: number) => void }): Promise<TransferResult> {
  const started = Date.now();
  let src: Database.Database;
  try {
    src = new Database(join(o.from, DB_FILE), { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new HubError('store_unavailable', `cannot open the embedded hub at ${join(o.from, DB_FILE)}: ${(e as Error).message}`, { cause: e });
  }
  // Creates (or checks) the target schema with PostgreSQL's own migrations, then is closed.
  const store = await PostgresStore.open({ url: o.to, schema: o.schema, poolSize: 2 });
  await store.close();
  const client = new pg.Client({ connectionString: o.to });
  try {
    await client.connect();
  } catch (e) {
    src.close();
    throw new HubError('store_unavailable', `cannot connect to ${redactUrl(o.to)}: ${(e as Error).message}`, { cause: e });
  }
  const q = (t: string): string => (o.schema === undefined ? quoteIdent(t) : `${quoteIdent(o.schema)}.${quoteIdent(t)}`);
  const result: TransferResult = { tables: [], audit: { records: 0, head: null }, seconds: 0 };
  try {
    const occupied = await client.query(`SELECT (SELECT count(*) FROM ${q('agents')}) + (SELECT count(*) FROM ${q('messages')}) AS n`);
    if (Number(occupied.rows[0].n) > 0) {
      throw new HubError('validation_failed', `the target ${redactUrl(o.to)}${o.schema ? ` (schema ${o.schema})` : ''} already holds a hub: migrate into an empty database or schema`);
    }
    // One snapshot of the source for the whole copy, one transaction on the target.
    src.prepare('BEGIN').run();
    await client.query('BEGIN');
    for (const table of TABLES) {
      const types = new Map<string, string>(
        (
          await client.query(
            `SELECT column_name, data_type, is_generated FROM information_schema.columns WHERE table_name = $1 AND table_schema = coalesce($2, current_schema())`,
            [table, o.schema ?? null],
          )
        ).rows
          .filter((r: { is_generated: string }) => r.is_generated !== 'ALWAYS')
          .map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]),
      );
      const sourceColumns = (src.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      const columns = sourceColumns.filter((c) => types.has(c));
      if (columns.length === 0) throw new HubError('internal', `table ${table} has no columns in common`);
      const convert = (row: Record<string, unknown>): Record<string, unknown> => {
        const out: Record<string, unknown> = {};
        for (const c of columns) {
          const v = row[c];
          const type = types.get(c);
          if (v === null || v === undefined) out[c] = null;
          else if ((type === 'json' || type === 'jsonb' || type === 'ARRAY') && typeof v === 'string') out[c] = JSON.parse(v);
          else if (type === 'bytea' && Buffer.isBuffer(v)) out[c] = `\\x${v.toString('hex')}`;
          else if (type === 'boolean') out[c] = v === 1 || v === true;
          else out[c] = v;
        }
        return out;
      };
      const list = columns.map(quoteIdent).join(', ');
      const insert = `INSERT INTO ${q(table)} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${q(table)}, $1::json) ON CONFLICT DO NOTHING`;
      let batch: Record<string, unknown>[] = [];
      let copied = 0;
      for (const row of src.prepare(`SELECT * FROM ${table}`).iterate() as IterableIterator<Record<string, unknown>>) {
        batch.push(convert(row));
        if (batch.length >= BATCH) {
          await client.query(insert, [JSON.stringify(batch)]);
          copied += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) await client.query(insert, [JSON.stringify(batch)]);
      copied += batch.length;
      o.onTable?.(table, copied);
    }
    // Serial columns and the hand-out sequence continue after the copied numbers.
    for (const [table, column] of [
      ['messages', 'seq'],
      ['tasks', 'seq'],
      ['settings', 'version'],
    ] as const) {
      const seq = await client.query('SELECT pg_get_serial_sequence($1, $2) AS s', [o.schema === undefined ? table : `${quoteIdent(o.schema)}.${table}`, column]);
      const name = seq.rows[0]?.s as string | null;
      if (name) await client.query(`SELECT setval($1, GREATEST((SELECT coalesce(max(${quoteIdent(column)}), 0) FROM ${q(table)}), 1))`, [name]);
    }
    const handouts = await client.query(`SELECT coalesce(max(handout), 0) AS n FROM ${q('deliveries')}`);
    if (Number(handouts.rows[0].n) > 0) await client.query(`SELECT setval('${o.schema === undefined ? '' : `${quoteIdent(o.schema)}.`}handouts', $1)`, [Number(handouts.rows[0].n)]);
    await client.query('COMMIT');
    src.prepare('COMMIT').run();
    for (const table of TABLES) {
      const source = (src.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      const target = Number((await client.query(`SELECT count(*) AS n FROM ${q(table)}`)).rows[0].n);
      result.tables.push({ table, source, target });
    }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    if (src.inTransaction) src.prepare('ROLLBACK').run();
    src.close();
    await client.end();
  }
  const wrong = result.tables.filter((t) => t.source !== t.target);
  if (wrong.length > 0) {
    throw new HubError('internal', `copied, but the counts differ: ${wrong.map((w) => `${w.table} ${w.source} -> ${w.target}`).join(', ')}`);
  }
  // The audit chain must verify in the copy as it did in the source, with the same head.
  const source = new SqliteStore({ dir: o.from, synchronous: 'normal' });
  const before = await verifyChain(source).finally(() => source.close());
  const target = await PostgresStore.open({ url: o.to, schema: o.schema, poolSize: 2 });
  const after = await verifyChain(target).finally(() => target.close());
  const head = (r: typeof after): string | null => (r.head === null ? null : `${r.head.seq}:${r.head.hash}`);
  if (!after.ok || after.records !== before.records || head(after) !== head(before)) {
    throw new HubError('audit_broken', `copied, but the audit chain does not verify in the copy as in the source: ${after.problems.map((p) => p.message).join('; ') || `${after.records} records, head ${head(after) ?? 'none'} vs ${before.records}, ${head(before) ?? 'none'}`}`);
  }
  result.audit = { records: after.records, head: head(after) };
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
