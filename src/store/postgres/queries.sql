-- Runtime queries of the PostgreSQL adapter, one per `-- name:` section (loaded by sql-files.ts),
-- run as named prepared statements with positional parameters. Message rows are selected with the
-- same column list everywhere (never m.*: it would carry the search vector along), and inbox rows
-- add the delivery columns as d_*, so that rows map to domain objects like SQLite's (rows.ts).
-- Lists of values arrive as arrays and are expanded with unnest().

-- name: insertAgent
INSERT INTO agents (id, role, specialty, capabilities, status, mission, created_at, last_seen_at, removed_at)
VALUES ($1, $2, $3, $4::jsonb, 'online', '', $5, NULL, NULL)
ON CONFLICT (id) DO UPDATE SET
  role = excluded.role, specialty = excluded.specialty, capabilities = excluded.capabilities,
  status = 'online', mission = '', created_at = excluded.created_at, last_seen_at = NULL, removed_at = NULL
WHERE agents.removed_at IS NOT NULL
RETURNING id, role, specialty, capabilities, status, mission, created_at, last_seen_at;

-- name: getAgent
SELECT id, role, specialty, capabilities, status, mission, created_at, last_seen_at FROM agents WHERE id = $1 AND removed_at IS NULL;

-- name: listAgents
SELECT id, role, specialty, capabilities, status, mission, created_at, last_seen_at FROM agents WHERE removed_at IS NULL ORDER BY id;

-- name: removeAgent
WITH removed AS (
  UPDATE agents SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL RETURNING id
), revoked AS (
  UPDATE tokens SET revoked_at = $2 WHERE agent_id IN (SELECT id FROM removed) AND revoked_at IS NULL
)
SELECT count(*) AS n FROM removed;

-- name: setStatus
UPDATE agents SET status = $2, mission = $3, last_seen_at = greatest(coalesce(last_seen_at, 0), $4::bigint)
WHERE id = $1 AND removed_at IS NULL
RETURNING id, role, specialty, capabilities, status, mission, created_at, last_seen_at;

-- name: recordSeen
-- Rows are locked in id order (concurrent flushes of several processes never deadlock), and only
-- those whose last sight moves forward are written at all.
WITH seen AS (
  SELECT s.id, s.at FROM unnest($1::text[], $2::bigint[]) AS s(id, at)
), locked AS (
  SELECT a.id, seen.at FROM agents a JOIN seen ON seen.id = a.id
  WHERE a.last_seen_at IS NULL OR a.last_seen_at < seen.at
  ORDER BY a.id
  FOR UPDATE OF a
)
UPDATE agents a SET last_seen_at = greatest(coalesce(a.last_seen_at, 0), l.at)
FROM locked l WHERE a.id = l.id;

-- name: insertToken
INSERT INTO tokens (id, agent_id, hash, label, created_at, expires_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb);

-- name: findToken
SELECT t.id AS token_id, t.agent_id AS agent_id, t.expires_at AS expires_at, t.scopes AS scopes
FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.hash = $1 AND t.revoked_at IS NULL AND a.removed_at IS NULL;

-- name: getToken
SELECT id, agent_id, label, created_at, expires_at, scopes, last_used_at, revoked_at FROM tokens WHERE id = $1;

-- name: listTokens
SELECT t.id, t.agent_id, t.label, t.created_at, t.expires_at, t.scopes, t.last_used_at, t.revoked_at
FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.revoked_at IS NULL AND a.removed_at IS NULL AND ($1::text IS NULL OR t.agent_id = $1)
ORDER BY t.created_at, t.id;

-- name: revokeToken
UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING agent_id;

-- name: touchToken
UPDATE tokens SET last_used_at = greatest(coalesce(last_used_at, 0), $2::bigint) WHERE id = $1;

-- name: hasLiveToken
SELECT 1 FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.agent_id = $1 AND t.revoked_at IS NULL AND a.removed_at IS NULL LIMIT 1;

-- name: findIdempotent
-- Earlier messages for (sender, key) pairs, with their recipients.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
       ARRAY(SELECT d.recipient FROM deliveries d WHERE d.message_seq = m.seq ORDER BY d.recipient) AS d_recipients
FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(sender, key) ON m.sender = k.sender AND m.idempotency_key = k.key;

-- name: appendMessages
-- One group commit of sends in one statement (and so one transaction, one fsync, one round trip):
-- the messages in array order (the seq order is the send order), then their deliveries and
-- channel posts, each naming its message by id. A (sender, key) already taken, by an earlier send
-- or by a concurrent one in another process, inserts nothing for that message: the caller reads
-- the message that holds the key instead. The queue counters take the opened deliveries.
WITH ins AS (
  INSERT INTO messages (id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, reply_to, metadata,
                        created_at, expires_at, idempotency_key, request_hash)
  SELECT id, sender, recipients::jsonb, kind, type, priority, subject, body, tags::jsonb, thread_id, reply_to, metadata::json,
         created_at, expires_at, idempotency_key, request_hash
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::text[], $9::text[],
              $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::text[], $16::text[])
       WITH ORDINALITY AS u(id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, reply_to, metadata,
                            created_at, expires_at, idempotency_key, request_hash, ord)
  ORDER BY ord
  ON CONFLICT (sender, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING seq, id
), delivered AS (
  INSERT INTO deliveries (recipient, message_seq, priority)
  SELECT k.recipient, ins.seq, k.priority
  FROM unnest($17::text[], $18::text[], $19::smallint[]) AS k(id, recipient, priority) JOIN ins ON ins.id = k.id
  RETURNING recipient
), counted AS (
  INSERT INTO queue_counts (recipient, open) SELECT recipient, count(*) FROM delivered GROUP BY recipient
), posted AS (
  INSERT INTO message_channels (channel, message_seq)
  SELECT k.channel, ins.seq FROM unnest($20::text[], $21::text[]) AS k(id, channel) JOIN ins ON ins.id = k.id
  ON CONFLICT DO NOTHING
)
SELECT seq, id FROM ins;

-- name: getMessage
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m WHERE m.id = $1;

-- name: recipientsOf
SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.id = $1 ORDER BY d.recipient;

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
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
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
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
       d.recipient AS d_recipient,
       CASE WHEN d.state = 'pending' THEN 'delivered' ELSE d.state END AS d_state,
       CASE WHEN d.state = 'pending' THEN $4::bigint ELSE d.delivered_at END AS d_delivered_at,
       d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM picked p JOIN deliveries d ON d.recipient = $1 AND d.message_seq = p.message_seq JOIN messages m ON m.seq = p.message_seq
ORDER BY d.priority DESC, d.message_seq;

-- name: inboxItem
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
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

-- name: thread
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m
WHERE m.thread_id = $1
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
ORDER BY m.seq;

-- name: history
-- $1 viewer, $2 agent, $3 since, $4 type, $5 limit.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m
WHERE ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;

-- name: historySearch
-- Like history, plus $6: every word of the search text must appear in subject or body, case and
-- accents folded. plainto_tsquery reads operators and punctuation as plain text: hostile input
-- finds nothing rather than failing. A separate statement so that its plan can use the GIN index.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m
WHERE m.search @@ plainto_tsquery('pg_catalog.simple', swarm_unaccent($6::text))
  AND ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;

-- name: leasable
-- $1 agents, $2 limits (pairwise, each agent once), $3 now. The leasable deliveries of every agent
-- of one dispatch at once, each agent's urgent first then oldest, up to its limit, locked. Rows
-- another transaction is leasing right now are skipped, not waited for: two consumers of one agent
-- never get the same delivery.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
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
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
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

-- name: nextWake
SELECT least(min(lease_until) FILTER (WHERE lease_until > $2), min(visible_at) FILTER (WHERE visible_at > $2)) AS t
FROM deliveries WHERE recipient = $1 AND state IN ('pending', 'delivered', 'read');

-- name: queueStats
-- $1 now. Totals from the counters; in flight and delayed from their partial indexes.
WITH totals AS (
  SELECT recipient, sum(open) AS open, sum(acked) AS acked, sum(expired) AS expired, sum(dead) AS dead, sum(redeliveries) AS redeliveries
  FROM queue_counts GROUP BY recipient
), flight AS (
  SELECT recipient, count(*) AS n FROM deliveries
  WHERE lease_until > $1 AND state IN ('pending', 'delivered', 'read') GROUP BY recipient
), later AS (
  SELECT recipient, count(*) AS n FROM deliveries
  WHERE visible_at > $1 AND state IN ('pending', 'delivered', 'read') AND (lease_until IS NULL OR lease_until <= $1) GROUP BY recipient
)
SELECT t.recipient AS agent, (t.open - coalesce(f.n, 0))::bigint AS depth, coalesce(f.n, 0)::bigint AS in_flight, coalesce(l.n, 0)::bigint AS delayed,
  t.redeliveries::bigint AS redeliveries, t.dead::bigint AS dead, t.acked::bigint AS acked, t.expired::bigint AS expired
FROM totals t LEFT JOIN flight f ON f.recipient = t.recipient LEFT JOIN later l ON l.recipient = t.recipient
ORDER BY t.recipient;

-- name: deadLetters
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash,
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

-- name: historyChannel
-- Like history, plus $6: only messages posted to this channel, read through message_channels.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM message_channels mc JOIN messages m ON m.seq = mc.message_seq
WHERE mc.channel = $6
  AND ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;

-- name: historySearchChannel
-- historySearch limited to the channel $7.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m
WHERE m.search @@ plainto_tsquery('pg_catalog.simple', swarm_unaccent($6::text))
  AND EXISTS (SELECT 1 FROM message_channels mc WHERE mc.channel = $7 AND mc.message_seq = m.seq)
  AND ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;

-- name: insertChannel
INSERT INTO channels (name, description, auto_join, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: getChannel
-- auto_join as 0/1 and members as a number: the row shape SQLite's mapping reads (rows.ts).
SELECT c.name, c.description, c.auto_join::int AS auto_join, c.created_by, c.created_at,
       (SELECT count(*) FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL WHERE cm.channel = c.name) AS members
FROM channels c WHERE c.name = $1;

-- name: listChannels
SELECT c.name, c.description, c.auto_join::int AS auto_join, c.created_by, c.created_at,
       (SELECT count(*) FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL WHERE cm.channel = c.name) AS members
FROM channels c ORDER BY c.name;

-- name: joinChannel
-- $1 channel, $2 agent, $3 time. Joins nothing (false) when the channel does not exist.
INSERT INTO channel_members (channel, agent_id, joined_at)
SELECT name, $2, $3 FROM channels WHERE name = $1
ON CONFLICT DO NOTHING;

-- name: leaveChannel
DELETE FROM channel_members WHERE channel = $1 AND agent_id = $2;

-- name: channelMembers
SELECT cm.agent_id AS id FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL
WHERE cm.channel = $1 ORDER BY cm.agent_id;

-- name: autoJoin
INSERT INTO channel_members (channel, agent_id, joined_at)
SELECT name, $1, $2 FROM channels WHERE auto_join
ON CONFLICT DO NOTHING;

-- name: insertTask
INSERT INTO tasks (id, title, description, points, role, capabilities, priority, status, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'open', $8, $9)
RETURNING seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
          verified_at, verified_by, created_by, created_at, thread_id;

-- name: getTask
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks WHERE id = $1;

-- name: lockTask
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks WHERE id = $1
FOR UPDATE;

-- name: listTasks
-- $1 status, $2 assignee, $3 limit. Open tasks first by priority then age; others newest first.
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR assignee = $2)
ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, CASE WHEN status = 'open' THEN -priority ELSE 0 END,
  CASE WHEN status = 'open' THEN seq ELSE -seq END
LIMIT $3;

-- name: silentClaims
-- $1 silent since, $2 limit. From the agents that are removed or silent (a roster, not the board),
-- then their claims by the tasks_assignee index.
SELECT t.seq, t.id, t.title, t.description, t.points, t.role, t.capabilities, t.priority, t.status, t.assignee, t.claimed_at, t.done_at,
       t.note, t.verified_at, t.verified_by, t.created_by, t.created_at, t.thread_id
FROM agents a JOIN tasks t ON t.assignee = a.id AND t.status = 'claimed'
WHERE (a.removed_at IS NOT NULL OR coalesce(a.last_seen_at, 0) < $1) AND t.claimed_at < $1
ORDER BY t.claimed_at
LIMIT $2;

-- name: claimNext
-- $1 agent, $2 its role, $3 its capabilities (JSON array), $4 time. The best open task that fits
-- (domain/task.ts `fits`: no role or the agent's; every capability among the agent's), walked by
-- the tasks_open index and claimed in the same statement. A task another caller is claiming right
-- now is skipped rather than waited for, so concurrent callers get different tasks.
UPDATE tasks SET status = 'claimed', assignee = $1, claimed_at = $4
WHERE seq = (
  SELECT seq FROM tasks
  WHERE status = 'open' AND (role IS NULL OR role = $2) AND capabilities <@ $3::jsonb
  ORDER BY priority DESC, seq
  LIMIT 1
  FOR UPDATE SKIP LOCKED
)
RETURNING seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
          verified_at, verified_by, created_by, created_at, thread_id;

-- name: updateTask
UPDATE tasks SET status = $2, assignee = $3, claimed_at = $4, done_at = $5, note = $6, verified_at = $7, verified_by = $8, thread_id = $9
WHERE id = $1;

-- name: lockReviews
-- Serialises the review rounds of one task ($1) across processes, until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('swarm.reviews:' || $1::text, 0));

-- name: maxRound
SELECT coalesce(max(round), 0) AS n FROM reviews WHERE task_id = $1;

-- name: insertReviews
-- $1 task, $2 round, $3 reviewers, $4 requested by, $5 time.
INSERT INTO reviews (task_id, round, reviewer, requested_by, requested_at)
SELECT $1, $2, r, $4, $5 FROM unnest($3::text[]) AS r
ON CONFLICT DO NOTHING;

-- name: decideReview
-- $1 task, $2 round, $3 reviewer, $4 verdict, $5 comment, $6 time.
UPDATE reviews SET verdict = $4, comment = $5, decided_at = $6 WHERE task_id = $1 AND round = $2 AND reviewer = $3;

-- name: reviewsOf
SELECT task_id, round, reviewer, requested_by, requested_at, verdict, comment, decided_at
FROM reviews WHERE task_id = $1 ORDER BY round, reviewer;

-- name: leaderboard
-- $1 since (null: all time).
SELECT agent, sum(points)::bigint AS points, sum(verified)::bigint AS tasks_verified, sum(done)::bigint AS tasks_done,
       sum(reviews)::bigint AS reviews_given
FROM (
  SELECT assignee AS agent, points, 1 AS verified, 0 AS done, 0 AS reviews FROM tasks
    WHERE status = 'verified' AND assignee IS NOT NULL AND ($1::bigint IS NULL OR verified_at >= $1)
  UNION ALL
  SELECT assignee, 0, 0, 1, 0 FROM tasks
    WHERE status IN ('done', 'verified') AND assignee IS NOT NULL AND ($1::bigint IS NULL OR done_at >= $1)
  UNION ALL
  SELECT reviewer, 0, 0, 0, 1 FROM reviews WHERE verdict IS NOT NULL AND ($1::bigint IS NULL OR decided_at >= $1)
) AS x
GROUP BY agent ORDER BY points DESC, tasks_verified DESC, agent;

-- name: getTemplate
SELECT name, body, updated_by, updated_at FROM templates WHERE name = $1;

-- name: listTemplates
SELECT name, body, updated_by, updated_at FROM templates ORDER BY name;

-- name: setTemplate
INSERT INTO templates (name, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: lockSettings
-- Writers of settings one at a time (readers are not blocked), until the transaction ends.
LOCK TABLE settings IN EXCLUSIVE MODE;

-- name: insertSettings
-- $1 versions, $2 keys, $3 values, $4 previous values (pairwise), $5 author, $6 note, $7 time.
INSERT INTO settings (version, key, value, previous, author, note, created_at)
SELECT v, k, val::json, prev::json, $5, $6, $7
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(v, k, val, prev);

-- name: currentSettings
-- The latest row of every key, each with the newest version overall (one snapshot for both).
SELECT DISTINCT ON (key) key, value::text AS value, max(version) OVER () AS top FROM settings ORDER BY key, version DESC;

-- name: settingsAt
SELECT DISTINCT ON (key) key, value::text AS value FROM settings WHERE version <= $1 ORDER BY key, version DESC;

-- name: settingsHistory
SELECT version, key, value::text AS value, previous::text AS previous, author, note, created_at
FROM settings ORDER BY version DESC LIMIT $1;

-- name: settingsVersion
SELECT coalesce(max(version), 0) AS n FROM settings;

-- name: scanMessages
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash
FROM messages m WHERE m.id > $1 ORDER BY m.id LIMIT $2;

-- name: rewriteMessage
UPDATE messages SET subject = $2, body = $3, metadata = $4::json WHERE id = $1;
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

-- name: directoryVersion
SELECT version FROM directory_version WHERE id = 1;

-- name: setEventChannel
UPDATE directory_version SET channel = $1 WHERE id = 1 AND channel <> $1;

-- name: addQueueCounts
-- $1 agents, $2 open, $3 acked, $4 expired, $5 dead, $6 redeliveries (pairwise): changes made by a
-- lease or a retry in the same transaction.
INSERT INTO queue_counts (recipient, open, acked, expired, dead, redeliveries)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]);

-- name: compactQueueCounts
-- One row per agent again. Rows appended meanwhile are not in this statement's snapshot: they stay.
WITH gone AS (DELETE FROM queue_counts RETURNING *)
INSERT INTO queue_counts (recipient, open, acked, expired, dead, redeliveries)
SELECT recipient, sum(open), sum(acked), sum(expired), sum(dead), sum(redeliveries) FROM gone GROUP BY recipient;

-- name: queueCountRows
SELECT count(*)::int AS n FROM queue_counts;

-- name: expiryMark
SELECT at FROM sweep_marks WHERE name = 'expiry';

-- name: setExpiryMark
UPDATE sweep_marks SET at = greatest(at, $1) WHERE name = 'expiry';

-- name: takeTokens
-- $1 key, $2 rate per second, $3 burst, $4 tokens wanted, $5 now.
SELECT granted, remaining FROM swarm_take_tokens($1, $2, $3, $4, $5);
