-- Leases: hand-outs, adoption, nacks, the sweep and its expiry mark (leases.ts).

-- name: leasable
-- $1 agents, $2 limits (pairwise, each agent once), $3 now. The leasable deliveries of every agent
-- of one dispatch at once, each agent's urgent first then oldest, up to its limit, locked. Rows
-- another transaction is leasing right now are skipped, not waited for: two consumers of one agent
-- never get the same delivery.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at,
       d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS r(agent, lim, ord)
CROSS JOIN LATERAL (
  SELECT d.recipient, d.message_seq, d.priority, d.state, d.delivered_at, d.read_at, d.acked_at, d.attempts, d.handout, d.lease_until
  FROM deliveries d
  WHERE d.recipient = r.agent AND d.state IN ('pending', 'delivered', 'read')
    AND (d.lease_until IS NULL OR d.lease_until <= $3)
    AND (d.visible_at IS NULL OR d.visible_at <= $3)
  ORDER BY d.priority DESC, d.message_seq
  LIMIT r.lim
  FOR UPDATE SKIP LOCKED
) d
JOIN messages m ON m.seq = d.message_seq
ORDER BY r.ord, d.priority DESC, d.message_seq;

-- name: nextHandouts
SELECT nextval('handouts') AS n FROM generate_series(1, $1::int);

-- name: leaseMany
-- $1 agents, $2 seqs, $3 hand-out numbers, $4 owners (pairwise), $5 lease end, $6 now.
UPDATE deliveries d SET attempts = d.attempts + 1, lease_until = $5, lease_owner = k.owner, handout = k.handout, visible_at = NULL,
  state = CASE WHEN d.state = 'pending' THEN 'delivered' ELSE d.state END, delivered_at = coalesce(d.delivered_at, $6)
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS k(recipient, seq, handout, owner)
WHERE d.recipient = k.recipient AND d.message_seq = k.seq;

-- name: deadMany
-- $1 agents, $2 seqs (pairwise), $3 now.
UPDATE deliveries d SET state = 'dead', dead_at = $3, dead_reason = 'not acknowledged after ' || d.attempts || ' deliveries',
  lease_until = NULL, lease_owner = NULL
FROM unnest($1::text[], $2::bigint[]) AS k(recipient, seq)
WHERE d.recipient = k.recipient AND d.message_seq = k.seq;

-- name: expireMany
-- $1 agents, $2 seqs (pairwise).
UPDATE deliveries d SET state = 'expired', lease_until = NULL, lease_owner = NULL
FROM unnest($1::text[], $2::bigint[]) AS k(recipient, seq)
WHERE d.recipient = k.recipient AND d.message_seq = k.seq;

-- name: adoptLeases
-- $1 agent, $2 owner, $3 now, $4 after hand-out.
WITH moved AS (
  UPDATE deliveries SET lease_owner = $2
  WHERE recipient = $1 AND state IN ('pending', 'delivered', 'read') AND lease_until > $3 AND handout > $4
  RETURNING recipient, message_seq, state, delivered_at, read_at, acked_at, attempts, handout, lease_until
)
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
       d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at,
       d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM moved d JOIN messages m ON m.seq = d.message_seq
ORDER BY d.handout;

-- name: nackMany
UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, visible_at = $3
WHERE recipient = $1 AND message_seq = ANY($2::bigint[]) AND state IN ('pending', 'delivered', 'read');

-- name: releaseAll
UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_until IS NOT NULL;

-- name: sweepExpired
-- $1 now, $2 the expiry mark minus a minute's slack (messages expiring before were swept already).
-- Deliveries of messages that expired since are closed, and counted.
WITH closed AS (
  UPDATE deliveries d SET state = 'expired', lease_until = NULL, lease_owner = NULL
  FROM messages m
  WHERE m.expires_at > $2 AND m.expires_at <= $1 AND m.seq = d.message_seq
    AND d.state IN ('pending', 'delivered', 'read')
  RETURNING d.recipient
), counted AS (
  INSERT INTO queue_counts (recipient, open, expired) SELECT recipient, -count(*), count(*) FROM closed GROUP BY recipient
)
SELECT count(*)::int AS n FROM closed;

-- name: sweepDead
-- $1 now, $2 most attempts, $3 batch size. Ended leases that used every attempt are dead-lettered,
-- and counted. Read through the leases index: it holds the live leases and those that ended
-- without a new hand-out yet (at most a prefetch per stream that went away), not the history.
WITH ended AS (
  SELECT recipient, message_seq FROM deliveries
  WHERE lease_until <= $1 AND attempts >= $2 AND state IN ('pending', 'delivered', 'read')
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), died AS (
  UPDATE deliveries d SET state = 'dead', dead_at = $1, dead_reason = 'not acknowledged after ' || d.attempts || ' deliveries',
    lease_until = NULL, lease_owner = NULL
  FROM ended e
  WHERE d.recipient = e.recipient AND d.message_seq = e.message_seq
  RETURNING d.recipient
), counted AS (
  INSERT INTO queue_counts (recipient, open, dead) SELECT recipient, -count(*), count(*) FROM died GROUP BY recipient
)
SELECT count(*)::int AS dead FROM died;

-- name: expiryMark
SELECT at FROM sweep_marks WHERE name = 'expiry';

-- name: setExpiryMark
UPDATE sweep_marks SET at = greatest(at, $1) WHERE name = 'expiry';

-- name: nextWake
SELECT least(min(lease_until) FILTER (WHERE lease_until > $2), min(visible_at) FILTER (WHERE visible_at > $2)) AS t
FROM deliveries WHERE recipient = $1 AND state IN ('pending', 'delivered', 'read');
