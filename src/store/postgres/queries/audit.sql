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
