// Runtime SQL of the PostgreSQL adapter names its schema (src/store/postgres/qualify.ts): no
// statement may depend on a connection's search_path, which PgBouncer in transaction mode does not
// keep. The list of tables is checked against the migrations, and every loaded query against it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUERIES_DIR } from '../../src/store/postgres/connection.js';
import { MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { qualify, qualifyAll, TABLES } from '../../src/store/postgres/qualify.js';
import { loadMigrations, loadQueryDir } from '../../src/store/sql-files.js';

describe('PostgreSQL queries name their schema', () => {
  it('knows every table the migrations create', () => {
    const created = new Set<string>(['schema_migrations']);
    for (const m of loadMigrations(MIGRATIONS_DIR)) for (const x of m.sql.matchAll(/CREATE TABLE (\w+)/g)) created.add(x[1] as string);
    assert.deepEqual([...created].sort(), [...TABLES].sort());
  });

  it('leaves no table of the store unqualified in any query', () => {
    const queries = qualifyAll(loadQueryDir(QUERIES_DIR), 'swarm_x');
    assert.ok(Object.keys(queries).length > 50);
    const bare = new RegExp(`\\b(FROM|JOIN|INTO|UPDATE|TABLE)\\s+(${TABLES.join('|')})\\b`);
    for (const [name, sql] of Object.entries(queries)) {
      assert.doesNotMatch(sql, bare, `query ${name}`);
      assert.doesNotMatch(sql, /(?<!\.)\bswarm_(unaccent|take_tokens)\(|nextval\('handouts'\)/, `query ${name}`);
    }
  });

  it('quotes the schema and keeps aliases and columns as they are', () => {
    assert.equal(
      qualify("SELECT m.id FROM messages m JOIN deliveries d ON d.message_seq = m.seq WHERE swarm_unaccent(m.body) <> '' AND nextval('handouts') > 0", 'a"b'),
      `SELECT m.id FROM "a""b".messages m JOIN "a""b".deliveries d ON d.message_seq = m.seq WHERE "a""b".swarm_unaccent(m.body) <> '' AND nextval('"a""b".handouts') > 0`,
    );
  });
});
