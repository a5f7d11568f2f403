-- Dead letters: listed and retried (dead-letters.ts).

-- name: deadLetters
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at,
       d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until, d.dead_reason AS d_dead_reason, d.dead_at AS d_dead_at
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.state = 'dead' AND ($1::text IS NULL OR d.recipient = $1)
ORDER BY d.dead_at, d.message_seq
LIMIT $2;

-- name: deadOf
SELECT d.recipient AS recipient, m.id AS id, d.message_seq AS seq, d.attempts AS attempts
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.state = 'dead' AND ($1::text IS NULL OR d.recipient = $1)
ORDER BY d.recipient, d.dead_at, d.message_seq
FOR UPDATE OF d;

-- name: retryDead
UPDATE deliveries d SET state = 'pending', attempts = 0, dead_at = NULL, dead_reason = NULL, visible_at = NULL, lease_until = NULL, lease_owner = NULL
FROM unnest($1::text[], $2::bigint[]) AS k(recipient, seq)
WHERE d.recipient = k.recipient AND d.message_seq = k.seq AND d.state = 'dead';
