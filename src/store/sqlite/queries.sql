-- Runtime queries of the SQLite adapter, one per `-- name:` section (loaded by queries.ts).
-- Message rows are selected with the same column list everywhere (see MESSAGE_COLUMNS).

-- name: insertAgent
INSERT INTO agents (id, role, specialty, capabilities, status, mission, created_at, last_seen_at, removed_at)
VALUES (@id, @role, @specialty, @capabilities, 'online', '', @created_at, NULL, NULL)
ON CONFLICT (id) DO UPDATE SET
  role = excluded.role, specialty = excluded.specialty, capabilities = excluded.capabilities,
  status = 'online', mission = '', created_at = excluded.created_at, last_seen_at = NULL, removed_at = NULL
WHERE agents.removed_at IS NOT NULL;

-- name: getAgent
SELECT * FROM agents WHERE id = ? AND removed_at IS NULL;

-- name: listAgents
SELECT * FROM agents WHERE removed_at IS NULL ORDER BY id;

-- name: removeAgent
UPDATE agents SET removed_at = @at WHERE id = @id AND removed_at IS NULL;

-- name: revokeTokensOf
UPDATE tokens SET revoked_at = @at WHERE agent_id = @id AND revoked_at IS NULL;

-- name: setStatus
UPDATE agents SET status = @status, mission = @mission, last_seen_at = MAX(COALESCE(last_seen_at, 0), @at)
WHERE id = @id AND removed_at IS NULL;

-- name: recordSeen
UPDATE agents SET last_seen_at = MAX(COALESCE(last_seen_at, 0), @at) WHERE id = @id;

-- name: insertToken
INSERT INTO tokens (id, agent_id, hash, label, created_at) VALUES (@id, @agent_id, @hash, @label, @created_at);

-- name: findToken
SELECT t.id AS token_id, t.agent_id AS agent_id
FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.hash = ? AND t.revoked_at IS NULL AND a.removed_at IS NULL;

-- name: hasLiveToken
SELECT 1 FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.agent_id = ? AND t.revoked_at IS NULL AND a.removed_at IS NULL LIMIT 1;

-- name: insertMessage
INSERT INTO messages (id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, reply_to, metadata,
                      created_at, expires_at, idempotency_key, request_hash)
VALUES (@id, @sender, @recipients, @kind, @type, @priority, @subject, @body, @tags, @thread_id, @reply_to, @metadata,
        @created_at, @expires_at, @idempotency_key, @request_hash);

-- name: insertDelivery
INSERT INTO deliveries (recipient, message_seq, priority) VALUES (?, ?, ?);

-- name: findIdempotent
SELECT seq, request_hash FROM messages WHERE sender = ? AND idempotency_key = ?;

-- name: getMessage
SELECT * FROM messages WHERE id = ?;

-- name: getMessageBySeq
SELECT * FROM messages WHERE seq = ?;

-- name: recipientsOf
SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.id = ? ORDER BY d.recipient;

-- name: inboxOpen
SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.recipient = @recipient AND d.state <> 'acked' AND d.state IN (SELECT value FROM json_each(@states))
ORDER BY d.priority DESC, d.message_seq
LIMIT @limit;

-- name: inboxAll
SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.recipient = @recipient AND d.state IN (SELECT value FROM json_each(@states))
ORDER BY d.priority DESC, d.message_seq
LIMIT @limit;

-- name: markDelivered
UPDATE deliveries SET state = 'delivered', delivered_at = @at WHERE recipient = @recipient AND message_seq = @seq AND state = 'pending';

-- name: inboxItem
SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at
FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
WHERE m.id = @id;

-- name: markRead
UPDATE deliveries SET state = 'read', read_at = @at, delivered_at = COALESCE(delivered_at, @at)
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered');

-- name: markAcked
UPDATE deliveries SET state = 'acked', acked_at = @at, delivered_at = COALESCE(delivered_at, @at)
WHERE recipient = @recipient AND message_seq = @seq AND state <> 'acked';

-- name: thread
SELECT m.* FROM messages m
WHERE m.thread_id = @thread_id
  AND (@viewer IS NULL OR m.sender = @viewer OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = @viewer))
ORDER BY m.seq;

-- name: history
SELECT m.* FROM messages m
WHERE (@viewer IS NULL OR m.sender = @viewer OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = @viewer))
  AND (@agent IS NULL OR m.sender = @agent OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = @agent))
  AND (@since IS NULL OR m.created_at >= @since)
  AND (@type IS NULL OR m.type = @type)
  AND (@search IS NULL OR m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH @search))
ORDER BY m.seq DESC
LIMIT @limit;
