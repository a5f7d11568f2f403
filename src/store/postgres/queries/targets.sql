-- Delivery targets and their queues of pushes (targets.ts). The queue is filled by appendMessages
-- (messages.sql), in the send's own statement.

-- name: insertTarget
INSERT INTO targets (id, agent_id, kind, settings, secret, secret_sealed, min_priority, types, channels, senders, created_by, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::text[], $9::text[], $10::text[], $11, $12)
RETURNING *;

-- name: getTarget
SELECT * FROM targets WHERE id = $1;

-- name: listTargets
SELECT * FROM targets WHERE agent_id = $1 ORDER BY created_at, id;

-- name: listAllTargets
SELECT * FROM targets ORDER BY created_at, id;

-- name: deleteTarget
-- Its queue goes with it (ON DELETE CASCADE).
DELETE FROM targets WHERE id = $1;

-- name: leaseTargetDeliveries
-- $1 target, $2 owner, $3 limit, $4 now, $5 lease end, $6 max attempts. Rows another worker is
-- leasing at this moment are skipped (SKIP LOCKED): two workers never take the same push. A push
-- whose lease ran out on its last attempt goes dead instead of out.
WITH due AS (
  SELECT target_id, message_seq, attempts, owner FROM target_deliveries
  WHERE target_id = $1 AND state = 'pending' AND visible_at <= $4
  ORDER BY message_seq LIMIT $3
  FOR UPDATE SKIP LOCKED
), killed AS (
  UPDATE target_deliveries td SET state = 'dead', owner = NULL,
         last_error = 'no answer from the worker that held attempt ' || due.attempts || ' of ' || $6 || ' (lease ran out)'
  FROM due WHERE td.target_id = due.target_id AND td.message_seq = due.message_seq AND due.owner IS NOT NULL AND due.attempts >= $6
), leased AS (
  UPDATE target_deliveries td SET attempts = td.attempts + 1, owner = $2, visible_at = $5
  FROM due WHERE td.target_id = due.target_id AND td.message_seq = due.message_seq AND NOT (due.owner IS NOT NULL AND due.attempts >= $6)
  RETURNING td.message_seq, td.attempts
)
SELECT leased.attempts AS td_attempts,
       m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM leased JOIN messages m ON m.seq = leased.message_seq
ORDER BY m.seq;

-- name: settleTargetDelivery
-- $1 target, $2 message id, $3 owner, $4 outcome ('done', 'retry', 'dead'), $5 retry at, $6 error,
-- $7 at. Only the owner's lease is settled; the target's last success or error goes with it.
WITH row AS (
  SELECT td.target_id, td.message_seq FROM target_deliveries td JOIN messages m ON m.seq = td.message_seq
  WHERE td.target_id = $1 AND m.id = $2 AND td.owner = $3 AND td.state = 'pending'
  FOR UPDATE OF td
), done AS (
  DELETE FROM target_deliveries td USING row
  WHERE $4 = 'done' AND td.target_id = row.target_id AND td.message_seq = row.message_seq
), failed AS (
  UPDATE target_deliveries td SET owner = NULL, last_error = $6,
         state = CASE WHEN $4 = 'dead' THEN 'dead' ELSE 'pending' END,
         visible_at = CASE WHEN $4 = 'dead' THEN td.visible_at ELSE $5 END
  FROM row WHERE $4 <> 'done' AND td.target_id = row.target_id AND td.message_seq = row.message_seq
), noted AS (
  -- The target's row is shared by every push to it: a success is noted at most once a second, so
  -- that concurrent settlements do not queue on its lock (a row the WHERE leaves out is not locked).
  UPDATE targets t SET
    last_success_at = CASE WHEN $4 = 'done' THEN $7 ELSE t.last_success_at END,
    last_error = CASE WHEN $4 = 'done' THEN t.last_error ELSE $6 END,
    last_error_at = CASE WHEN $4 = 'done' THEN t.last_error_at ELSE $7 END
  FROM row WHERE t.id = row.target_id
    AND ($4 <> 'done' OR t.last_success_at IS NULL OR t.last_success_at < $7::bigint - 1000)
)
SELECT count(*)::int AS n FROM row;

-- name: targetBacklog
SELECT td.target_id,
       count(*) FILTER (WHERE td.state = 'pending')::int AS pending,
       count(*) FILTER (WHERE td.state = 'dead')::int AS dead,
       min(m.created_at) FILTER (WHERE td.state = 'pending') AS oldest_at
FROM target_deliveries td JOIN messages m ON m.seq = td.message_seq
WHERE td.target_id = ANY ($1::text[])
GROUP BY td.target_id;

-- name: retryTargetDead
UPDATE target_deliveries SET state = 'pending', attempts = 0, owner = NULL, visible_at = $2, last_error = NULL
WHERE target_id = $1 AND state = 'dead';

-- name: noteTargetBreaker
UPDATE targets SET breaker = $2, breaker_until = $3 WHERE id = $1;

-- name: storeTargetSecret
UPDATE targets SET secret = $2, secret_sealed = $3 WHERE id = $1;
