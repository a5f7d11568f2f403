-- Encryption at rest, recorded where no sender can write it (issue 12). Whether a message's
-- subject, body and metadata are sealed was read from the text itself (a value starting with
-- `enc:v1:`), so an agent could send text that the hub then took for ciphertext. Now a column says
-- it (src/store/sealing.ts): NULL, stored as sent; a key id (16 hex digits), sealed under that key,
-- each value bound to the message id and its field (AES-GCM associated data).
ALTER TABLE messages ADD COLUMN sealed TEXT;

-- Rows from before hold ciphertext in the old format, or text that only looks like it: 'legacy'
-- marks those with a value of that shape, to be told apart on reading by whether they authenticate
-- under a configured key (never by the prefix, which only narrows the rows to try). Rewritten by
-- the next key rotation, after which none is left.
UPDATE messages SET sealed = 'legacy'
WHERE substr(subject, 1, 7) = 'enc:v1:' OR substr(body, 1, 7) = 'enc:v1:' OR substr(metadata, 1, 9) = '{"$enc":"';
CREATE INDEX messages_legacy ON messages(seq) WHERE sealed = 'legacy';

-- Key rotations (hub/keys.ts): one runs at a time (the partial unique index), in batches that
-- commit with its progress, so that after a restart it resumes after `after_id`.
CREATE TABLE key_rotations (
  id           TEXT PRIMARY KEY,
  key_id       TEXT NOT NULL,
  previous     TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  owner        TEXT NOT NULL,
  after_id     TEXT NOT NULL DEFAULT '',
  scanned      INTEGER NOT NULL DEFAULT 0,
  rewritten    INTEGER NOT NULL DEFAULT 0,
  skipped      INTEGER NOT NULL DEFAULT 0,
  total        INTEGER NOT NULL DEFAULT 0,
  started_by   TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  error        TEXT
);
CREATE UNIQUE INDEX key_rotations_running ON key_rotations(state) WHERE state = 'running';
