-- The audit chain (src/domain/audit.ts): append-only records of security-relevant acts, each
-- holding the hash of the record before it. seq is not a serial: a sequence value taken by a
-- transaction that rolls back leaves a hole, which verification would report as a deleted record.
-- Appenders take an exclusive lock on the table (postgres-store.ts appendAudit) and assign
-- last + 1, so the chain never forks across processes and numbers have no gaps. detail is
-- canonical JSON kept as TEXT (not JSON), so that it comes back byte for byte as it was hashed.
CREATE TABLE audit (
  seq         BIGINT PRIMARY KEY,
  at          BIGINT NOT NULL,
  actor       TEXT COLLATE "C" NOT NULL,
  action      TEXT COLLATE "C" NOT NULL,
  target      TEXT COLLATE "C" NOT NULL DEFAULT '',
  request_id  TEXT,
  outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  detail      TEXT NOT NULL DEFAULT '{}',
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit(actor, seq);
CREATE INDEX audit_at ON audit(at);
