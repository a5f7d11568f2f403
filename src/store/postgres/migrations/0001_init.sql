-- The hub's schema in PostgreSQL terms: the same logical schema as SQLite's migrations 0001-0003
-- combined. Tables go to the first schema of the search_path (the store's `schema` option).
-- Times are Unix milliseconds (BIGINT). Identifiers compare and sort bytewise (COLLATE "C"), like
-- SQLite, whatever the database's locale.

-- Accent folding for search. Extensions are database-wide: create it in public once, whichever
-- store schema comes first (migrations of all schemas run under one advisory lock, migrate.ts).
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

-- unaccent() is only STABLE (it looks its dictionary up by name), and a generated column needs an
-- IMMUTABLE expression: wrap it with the dictionary named by schema. Function bodies name every
-- object with its schema, so that a restore (pg_restore runs with an empty search_path) works.
DO $migration$
DECLARE
  ext  text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent');
  here text := current_schema();
BEGIN
  EXECUTE format(
    $f$CREATE FUNCTION %1$I.swarm_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $body$ SELECT %2$I.unaccent(%3$L::regdictionary, $1) $body$$f$,
    here, ext, quote_ident(ext) || '.unaccent');
  -- A tsvector holds at most 1 MB: a body of that size with many distinct words would fail the
  -- insert (and its whole group commit). Up to 100,000 characters cannot reach the limit whatever
  -- the words; past that, try the whole text and fall back to its first 100,000 characters.
  EXECUTE format(
    $f$CREATE FUNCTION %1$I.swarm_search_vector(subject text, body text) RETURNS tsvector
       LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $body$
       DECLARE doc text := coalesce(subject, '') || ' ' || coalesce(body, '');
       BEGIN
         IF length(doc) <= 100000 THEN
           RETURN to_tsvector('pg_catalog.simple', %1$I.swarm_unaccent(doc));
         END IF;
         BEGIN
           RETURN to_tsvector('pg_catalog.simple', %1$I.swarm_unaccent(doc));
         EXCEPTION WHEN program_limit_exceeded THEN
           RETURN to_tsvector('pg_catalog.simple', %1$I.swarm_unaccent(left(doc, 100000)));
         END;
       END $body$$f$,
    here);
END
$migration$;

CREATE TABLE agents (
  id            TEXT COLLATE "C" PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('agent', 'captain', 'admin')),
  specialty     TEXT NOT NULL DEFAULT '',
  capabilities  JSONB NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'busy', 'idle', 'offline')),
  mission       TEXT NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT,
  removed_at    BIGINT
);

CREATE TABLE tokens (
  id          TEXT PRIMARY KEY,
  agent_id    TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  hash        BYTEA NOT NULL UNIQUE,
  label       TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  revoked_at  BIGINT
);
CREATE INDEX tokens_agent ON tokens(agent_id);

CREATE TABLE messages (
  seq              BIGSERIAL PRIMARY KEY,
  id               TEXT COLLATE "C" NOT NULL UNIQUE,
  sender           TEXT COLLATE "C" NOT NULL,
  recipients       JSONB NOT NULL,
  kind             TEXT NOT NULL,
  type             TEXT NOT NULL,
  priority         SMALLINT NOT NULL,
  subject          TEXT NOT NULL DEFAULT '',
  body             TEXT NOT NULL,
  tags             JSONB NOT NULL DEFAULT '[]',
  thread_id        TEXT COLLATE "C" NOT NULL,
  reply_to         TEXT,
  -- JSON, not JSONB: metadata comes back exactly as sent (JSONB would reorder its keys).
  metadata         JSON NOT NULL DEFAULT '{}',
  created_at       BIGINT NOT NULL,
  expires_at       BIGINT,
  idempotency_key  TEXT,
  request_hash     TEXT,
  search           tsvector GENERATED ALWAYS AS (swarm_search_vector(subject, body)) STORED
);
CREATE UNIQUE INDEX messages_idempotency ON messages(sender, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_thread ON messages(thread_id, seq);
CREATE INDEX messages_sender ON messages(sender, seq);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_expires ON messages(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search);

-- One delivery per (message, recipient). A delivery handed to a stream consumer is leased until
-- lease_until; an unacked lease expires and the delivery is handed out again, up to the configured
-- attempts, then it is dead with a reason. visible_at delays a nacked delivery. `handout` numbers
-- hand-outs across every process sharing the database (the SSE event id, for resuming).
CREATE TABLE deliveries (
  recipient     TEXT COLLATE "C" NOT NULL,
  message_seq   BIGINT NOT NULL,
  priority      SMALLINT NOT NULL,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'read', 'acked', 'expired', 'dead')),
  delivered_at  BIGINT,
  read_at       BIGINT,
  acked_at      BIGINT,
  attempts      INTEGER NOT NULL DEFAULT 0,
  lease_until   BIGINT,
  lease_owner   TEXT,
  handout       BIGINT,
  visible_at    BIGINT,
  dead_at       BIGINT,
  dead_reason   TEXT,
  PRIMARY KEY (recipient, message_seq)
);
-- The inbox read and the lease query: open deliveries of one agent, urgent first, then oldest.
CREATE INDEX deliveries_open ON deliveries(recipient, priority DESC, message_seq) WHERE state IN ('pending', 'delivered', 'read');
CREATE INDEX deliveries_message ON deliveries(message_seq);
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries(recipient, dead_at) WHERE state = 'dead';

CREATE SEQUENCE handouts AS BIGINT;
