-- Encryption at rest: the re-encryption scan and rewrite, and key rotations (sealing.ts).

-- name: scanMessages
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m WHERE m.id > $1 ORDER BY m.id LIMIT $2;

-- name: sealedEnds
-- How the oldest and the newest message are sealed (two index lookups).
SELECT m.sealed FROM messages m
WHERE m.seq IN ((SELECT min(seq) FROM messages), (SELECT max(seq) FROM messages)) AND m.sealed IS NOT NULL AND m.sealed <> 'legacy';

-- name: legacySealed
SELECT m.seq, m.id, m.sender, m.recipients, m.kind, m.type, m.priority, m.subject, m.body, m.tags, m.thread_id, m.reply_to,
       m.metadata, m.created_at, m.expires_at, m.idempotency_key, m.request_hash, m.sealed
FROM messages m WHERE m.sealed = 'legacy' ORDER BY m.seq LIMIT $1;

-- name: rewriteMessages
-- $1 ids, $2 subjects, $3 bodies, $4 metadata (JSON text), $5 sealed (pairwise). The search vector
-- is a generated column: PostgreSQL recomputes it from the new text.
UPDATE messages m SET subject = k.subject, body = k.body, metadata = k.metadata::json, sealed = k.sealed
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS k(id, subject, body, metadata, sealed)
WHERE m.id = k.id;

-- name: messageCount
SELECT count(*) AS n FROM messages;

-- name: keyRotation
SELECT * FROM key_rotations ORDER BY id DESC LIMIT 1;

-- name: abandonKeyRotation
-- $1 id, $2 now, $3 the rotation replacing it.
UPDATE key_rotations SET state = 'failed', finished_at = $2, updated_at = $2,
  error = 'abandoned: the process running it stopped; replaced by ' || $3
WHERE id = $1 AND state = 'running';

-- name: insertKeyRotation
INSERT INTO key_rotations (id, key_id, previous, state, owner, after_id, scanned, rewritten, skipped, total, started_by, started_at, updated_at, finished_at, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);

-- name: updateKeyRotation
-- $13: the owner it must still have.
UPDATE key_rotations SET key_id = $2, previous = $3, state = $4, owner = $5, after_id = $6, scanned = $7, rewritten = $8,
  skipped = $9, updated_at = $10, finished_at = $11, error = $12
WHERE id = $1 AND owner = $13 AND state = 'running';
