-- Shared settings held by the hub, versioned: every change is a row with its version, author,
-- the value before and after. The current value of a key is its latest row; a NULL value means
-- "back to the hub's own configuration". Rollback writes new rows; history is never rewritten.
CREATE TABLE settings (
  version     INTEGER PRIMARY KEY,
  key         TEXT NOT NULL,
  value       TEXT,
  previous    TEXT,
  author      TEXT NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
CREATE INDEX settings_key ON settings(key, version);
