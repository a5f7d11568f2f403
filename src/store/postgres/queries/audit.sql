-- The audit chain (audit.ts).

-- name: lockAudit
-- Appenders one at a time, across every process, until the transaction ends (readers go on).
LOCK TABLE audit IN EXCLUSIVE MODE;

-- name: auditLast
SELECT seq, at, hash FROM audit ORDER BY seq DESC LIMIT 1;

-- name: insertAudit
INSERT INTO audit (seq, at, actor, action, target, request_id, outcome, detail, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: auditRecords
-- Newest first; $1 since, $2 actor, $3 action (NULL: any), $4 limit.
SELECT * FROM audit
WHERE ($1::bigint IS NULL OR at >= $1) AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
ORDER BY seq DESC LIMIT $4;

-- name: auditChain
SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2;

-- name: auditCheckpoint
SELECT seq, hash, at, trimmed_at FROM audit_checkpoint WHERE id = 1;

-- name: auditTrim
-- $1 before, $2 limit, $3 now. The oldest records before $1, never the newest one (the next append
-- chains onto it); the last removed becomes the checkpoint, in the same statement. Appenders are
-- serialised by the lock on the chain (audit.ts): this takes it too.
WITH gone AS (
  DELETE FROM audit WHERE seq IN (
    SELECT seq FROM audit WHERE at < $1 AND seq < (SELECT max(seq) FROM audit) ORDER BY seq LIMIT $2
  )
  RETURNING seq, hash, at
), last AS (
  SELECT seq, hash, at FROM gone ORDER BY seq DESC LIMIT 1
), noted AS (
  INSERT INTO audit_checkpoint (id, seq, hash, at, trimmed_at) SELECT 1, seq, hash, at, $3 FROM last
  ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at, trimmed_at = excluded.trimmed_at
)
SELECT count(*)::int AS n FROM gone;
