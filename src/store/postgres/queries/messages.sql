-- Messages: group-committed sends, reads, threads, history and search (messages.ts).

-- name: findIdempotent
-- Earlier messages for (sender, key) pairs, with their recipients.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed,
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
                        created_at, expires_at, idempotency_key, request_hash, sealed)
  SELECT id, sender, recipients::jsonb, kind, type, priority, subject, body, tags::jsonb, thread_id, reply_to, metadata::json,
         created_at, expires_at, idempotency_key, request_hash, sealed
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::text[], $9::text[],
              $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::text[], $16::text[], $17::text[])
       WITH ORDINALITY AS u(id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, reply_to, metadata,
                            created_at, expires_at, idempotency_key, request_hash, sealed, ord)
  ORDER BY ord
  ON CONFLICT (sender, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING seq, id
), delivered AS (
  INSERT INTO deliveries (recipient, message_seq, priority)
  SELECT k.recipient, ins.seq, k.priority
  FROM unnest($18::text[], $19::text[], $20::smallint[]) AS k(id, recipient, priority) JOIN ins ON ins.id = k.id
  RETURNING recipient
), counted AS (
  INSERT INTO queue_counts (recipient, open) SELECT recipient, count(*) FROM delivered GROUP BY recipient
), posted AS (
  INSERT INTO message_channels (channel, message_seq)
  SELECT k.channel, ins.seq FROM unnest($21::text[], $22::text[]) AS k(id, channel) JOIN ins ON ins.id = k.id
  ON CONFLICT DO NOTHING
), targeted AS (
  -- Delivery targets (targets.sql): a copy for each target of a recipient whose filter lets the
  -- message through.
  INSERT INTO target_deliveries (target_id, message_seq, visible_at)
  SELECT t.id, ins.seq, m.created_at
  FROM unnest($18::text[], $19::text[], $20::smallint[]) AS k(id, recipient, priority)
  JOIN ins ON ins.id = k.id
  JOIN unnest($1::text[], $2::text[], $5::text[], $13::bigint[]) AS m(id, sender, type, created_at) ON m.id = k.id
  JOIN targets t ON t.agent_id = k.recipient
  WHERE k.priority >= t.min_priority
    AND (t.types IS NULL OR m.type = ANY (t.types))
    AND (t.senders IS NULL OR m.sender = ANY (t.senders))
    AND (t.channels IS NULL OR EXISTS (SELECT 1 FROM unnest($21::text[], $22::text[]) AS c(id, channel) WHERE c.id = k.id AND c.channel = ANY (t.channels)))
)
SELECT seq, id FROM ins;

-- name: getMessage
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m WHERE m.id = $1;

-- name: recipientsOf
SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.id = $1 ORDER BY d.recipient;

-- name: thread
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m
WHERE m.thread_id = $1
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
ORDER BY m.seq;

-- name: history
-- $1 viewer, $2 agent, $3 since, $4 type, $5 limit.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
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
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m
WHERE m.search @@ plainto_tsquery('pg_catalog.simple', swarm_unaccent($6::text))
  AND ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;

-- name: historyChannel
-- Like history, plus $6: only messages posted to this channel, read through message_channels.
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
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
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m
WHERE m.search @@ plainto_tsquery('pg_catalog.simple', swarm_unaccent($6::text))
  AND EXISTS (SELECT 1 FROM message_channels mc WHERE mc.channel = $7 AND mc.message_seq = m.seq)
  AND ($1::text IS NULL OR m.sender = $1 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $1))
  AND ($2::text IS NULL OR m.sender = $2 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = $2))
  AND ($3::bigint IS NULL OR m.created_at >= $3)
  AND ($4::text IS NULL OR m.type = $4)
ORDER BY m.seq DESC
LIMIT $5;
