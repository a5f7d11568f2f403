-- Audit retention (retention.auditDays, issue 15): the oldest records may be removed; the last one
-- removed is kept here (its seq, hash and time), and `audit verify` starts the chain from it, so
-- that the kept part is still proven record by record. One row at most.
CREATE TABLE audit_checkpoint (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         BIGINT NOT NULL,
  hash        TEXT NOT NULL,
  at          BIGINT NOT NULL,
  trimmed_at  BIGINT NOT NULL
);
