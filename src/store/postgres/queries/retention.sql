-- Retention (retention.ts): a window of seqs at a time, and a batch removed in one statement.

-- name: retentionCandidates
-- $1 after, $2 window, $3 before.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       ARRAY(SELECT mc.channel FROM message_channels mc WHERE mc.message_seq = m.seq ORDER BY mc.channel) AS channels
FROM messages m
WHERE m.seq > $1 AND m.seq <= $1 + $2 AND m.created_at < $3
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.state NOT IN ('acked', 'expired'))
  AND NOT EXISTS (SELECT 1 FROM target_deliveries td WHERE td.message_seq = m.seq)
ORDER BY m.seq;

-- name: nextMessageAfter
SELECT seq, created_at FROM messages WHERE seq > $1 ORDER BY seq LIMIT 1;

-- name: deleteMessages
-- Only messages still without an open delivery: one opened since the candidates were read (a
-- retry of a dead letter) keeps its message.
WITH gone AS (
  SELECT m.seq FROM messages m
  WHERE m.seq = ANY ($1::bigint[])
    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.state NOT IN ('acked', 'expired'))
  FOR UPDATE
), d AS (
  DELETE FROM deliveries WHERE message_seq IN (SELECT seq FROM gone)
), c AS (
  DELETE FROM message_channels WHERE message_seq IN (SELECT seq FROM gone)
)
DELETE FROM messages WHERE seq IN (SELECT seq FROM gone);
