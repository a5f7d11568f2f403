-- Deliveries as an inbox: listed, read, acknowledged (inbox.ts).

-- name: inboxOpen
-- $1 agent, $2 states, $3 limit, $4 now. Listed pending deliveries become delivered (the rows
-- returned show the new state: a statement's CTEs all see the same snapshot).
WITH picked AS (
  SELECT d.message_seq
  FROM deliveries d JOIN messages m ON m.seq = d.message_seq
  WHERE d.recipient = $1 AND d.state IN ('pending', 'delivered', 'read') AND d.state = ANY($2::text[])
    AND (m.expires_at IS NULL OR m.expires_at > $4::bigint)
  ORDER BY d.priority DESC, d.message_seq
  LIMIT $3
), marked AS (
  UPDATE deliveries d SET state = 'delivered', delivered_at = $4::bigint
  FROM picked p WHERE d.recipient = $1 AND d.message_seq = p.message_seq AND d.state = 'pending'
)
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient,
       CASE WHEN d.state = 'pending' THEN 'delivered' ELSE d.state END AS d_state,
       CASE WHEN d.state = 'pending' THEN $4::bigint ELSE d.delivered_at END AS d_delivered_at,
       d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM picked p JOIN deliveries d ON d.recipient = $1 AND d.message_seq = p.message_seq JOIN messages m ON m.seq = p.message_seq
ORDER BY d.priority DESC, d.message_seq;

-- name: inboxAll
-- Like inboxOpen, in any state (acked too), expired messages included.
WITH picked AS (
  SELECT d.message_seq
  FROM deliveries d
  WHERE d.recipient = $1 AND d.state = ANY($2::text[])
  ORDER BY d.priority DESC, d.message_seq
  LIMIT $3
), marked AS (
  UPDATE deliveries d SET state = 'delivered', delivered_at = $4::bigint
  FROM picked p WHERE d.recipient = $1 AND d.message_seq = p.message_seq AND d.state = 'pending'
)
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient,
       CASE WHEN d.state = 'pending' THEN 'delivered' ELSE d.state END AS d_state,
       CASE WHEN d.state = 'pending' THEN $4::bigint ELSE d.delivered_at END AS d_delivered_at,
       d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM picked p JOIN deliveries d ON d.recipient = $1 AND d.message_seq = p.message_seq JOIN messages m ON m.seq = p.message_seq
ORDER BY d.priority DESC, d.message_seq;

-- name: inboxItem
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at,
       d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = $1
WHERE m.id = $2;

-- name: markRead
UPDATE deliveries SET state = 'read', read_at = $3, delivered_at = coalesce(delivered_at, $3)
WHERE recipient = $1 AND message_seq = (SELECT seq FROM messages WHERE id = $2) AND state IN ('pending', 'delivered');

-- name: lockDeliveries
-- $1 agents, $2 message ids (pairwise): the deliveries that exist, locked for an ack, nack or retry.
SELECT d.recipient, m.id, d.message_seq AS seq, d.state
FROM unnest($1::text[], $2::text[]) AS k(recipient, id)
JOIN messages m ON m.id = k.id
JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = k.recipient
ORDER BY d.recipient, d.message_seq
FOR UPDATE OF d;

-- name: markAcked
-- $1 agents, $2 seqs, $3 times, $4 states before (pairwise; the rows are locked by lockDeliveries in
-- this transaction, so the states are current). Counts what closed in queue_counts.
WITH k AS (
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS k(recipient, seq, at, was)
), acked AS (
  UPDATE deliveries d SET state = 'acked', acked_at = k.at, delivered_at = coalesce(d.delivered_at, k.at), lease_until = NULL, lease_owner = NULL
  FROM k
  WHERE d.recipient = k.recipient AND d.message_seq = k.seq AND d.state <> 'acked'
  RETURNING d.recipient, k.was
)
INSERT INTO queue_counts (recipient, open, acked, expired, dead)
SELECT recipient, -count(*) FILTER (WHERE was IN ('pending', 'delivered', 'read')), count(*),
       -count(*) FILTER (WHERE was = 'expired'), -count(*) FILTER (WHERE was = 'dead')
FROM acked GROUP BY recipient;
