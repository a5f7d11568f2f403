-- The hub's core: agents, tokens, messages, one delivery per (message, recipient), full-text index.
-- Times are Unix milliseconds. JSON columns hold arrays or objects as text.

CREATE TABLE agents (
  id            TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('agent', 'captain', 'admin')),
  specialty     TEXT NOT NULL DEFAULT '',
  capabilities  TEXT NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'busy', 'idle', 'offline')),
  mission       TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER,
  removed_at    INTEGER
);

CREATE TABLE tokens (
  id          TEXT PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents(id),
  hash        BLOB NOT NULL UNIQUE,
  label       TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);
CREATE INDEX tokens_agent ON tokens(agent_id);

CREATE TABLE messages (
  seq              INTEGER PRIMARY KEY,
  id               TEXT NOT NULL UNIQUE,
  sender           TEXT NOT NULL,
  recipients       TEXT NOT NULL,
  kind             TEXT NOT NULL,
  type             TEXT NOT NULL,
  priority         INTEGER NOT NULL,
  subject          TEXT NOT NULL DEFAULT '',
  body             TEXT NOT NULL,
  tags             TEXT NOT NULL DEFAULT '[]',
  thread_id        TEXT NOT NULL,
  reply_to         TEXT,
  metadata         TEXT NOT NULL DEFAULT '{}',
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER,
  idempotency_key  TEXT,
  request_hash     TEXT
);
CREATE UNIQUE INDEX messages_idempotency ON messages(sender, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_thread ON messages(thread_id, seq);
CREATE INDEX messages_sender ON messages(sender, seq);
CREATE INDEX messages_created ON messages(created_at);

CREATE TABLE deliveries (
  recipient     TEXT NOT NULL,
  message_seq   INTEGER NOT NULL,
  priority      INTEGER NOT NULL,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'read', 'acked')),
  delivered_at  INTEGER,
  read_at       INTEGER,
  acked_at      INTEGER,
  PRIMARY KEY (recipient, message_seq)
) WITHOUT ROWID;
-- The inbox read: open deliveries of one agent, urgent first, then oldest.
CREATE INDEX deliveries_open ON deliveries(recipient, priority DESC, message_seq) WHERE state <> 'acked';
CREATE INDEX deliveries_message ON deliveries(message_seq);

CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, content='messages', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, subject, body) VALUES (new.seq, new.subject, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.seq, old.subject, old.body);
END;
