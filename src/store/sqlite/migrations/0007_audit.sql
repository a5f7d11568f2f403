-- The audit chain (src/domain/audit.ts): append-only records of security-relevant acts, each
-- holding the hash of the record before it. seq is assigned last + 1 inside the appending
-- transaction (the file's write lock serialises appenders), so numbers have no gaps and a missing
-- number means a deleted record. detail is canonical JSON text, hashed as it is stored.
CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  target      TEXT NOT NULL DEFAULT '',
  request_id  TEXT,
  outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  detail      TEXT NOT NULL DEFAULT '{}',
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit(actor, seq);
CREATE INDEX audit_at ON audit(at);
