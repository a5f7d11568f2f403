-- Tokens with expiry, scopes and last use; the `observer` role. SQLite cannot change a CHECK
-- constraint in place: agents is rebuilt. Foreign keys are on and this runs in a transaction
-- (where PRAGMA foreign_keys cannot change), so the one table referencing agents (tokens) is set
-- aside first, then rebuilt with its new columns over the new agents table.

CREATE TABLE tokens_old AS SELECT * FROM tokens;
DROP TABLE tokens;

CREATE TABLE agents_new (
  id            TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('agent', 'captain', 'admin', 'observer')),
  specialty     TEXT NOT NULL DEFAULT '',
  capabilities  TEXT NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'busy', 'idle', 'offline')),
  mission       TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER,
  removed_at    INTEGER
);
INSERT INTO agents_new (id, role, specialty, capabilities, status, mission, created_at, last_seen_at, removed_at)
  SELECT id, role, specialty, capabilities, status, mission, created_at, last_seen_at, removed_at FROM agents;
DROP TABLE agents;
ALTER TABLE agents_new RENAME TO agents;

CREATE TABLE tokens (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id),
  hash          BLOB NOT NULL UNIQUE,
  label         TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  expires_at    INTEGER,
  -- JSON array of operation names; NULL: whatever the agent's role allows.
  scopes        TEXT,
  last_used_at  INTEGER
);
INSERT INTO tokens (id, agent_id, hash, label, created_at, revoked_at)
  SELECT id, agent_id, hash, label, created_at, revoked_at FROM tokens_old;
DROP TABLE tokens_old;
CREATE INDEX tokens_agent ON tokens(agent_id);
