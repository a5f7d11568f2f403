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

-- name: agentKnown
-- Registered now or ever (removed agents keep their row).
SELECT 1 AS known FROM agents WHERE id = ?;

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
INSERT INTO tokens (id, agent_id, hash, label, created_at, expires_at, scopes)
VALUES (@id, @agent_id, @hash, @label, @created_at, @expires_at, @scopes);

-- name: findToken
SELECT t.id AS token_id, t.agent_id AS agent_id, t.expires_at AS expires_at, t.scopes AS scopes
FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.hash = ? AND t.revoked_at IS NULL AND a.removed_at IS NULL;

-- name: getToken
SELECT id, agent_id, label, created_at, expires_at, scopes, last_used_at, revoked_at FROM tokens WHERE id = ?;

-- name: listTokens
SELECT t.id, t.agent_id, t.label, t.created_at, t.expires_at, t.scopes, t.last_used_at, t.revoked_at
FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.revoked_at IS NULL AND a.removed_at IS NULL AND (@agent_id IS NULL OR t.agent_id = @agent_id)
ORDER BY t.created_at, t.id;

-- name: revokeToken
UPDATE tokens SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL RETURNING agent_id, hash;

-- name: touchToken
UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), @at) WHERE id = @id;

-- name: hasLiveToken
SELECT 1 FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.agent_id = ? AND t.revoked_at IS NULL AND a.removed_at IS NULL LIMIT 1;

-- name: insertMessage
INSERT INTO messages (id, sender, recipients, kind, type, priority, subject, body, tags, thread_id, reply_to, metadata,
                      created_at, expires_at, idempotency_key, request_hash, fanout, sealed)
VALUES (@id, @sender, @recipients, @kind, @type, @priority, @subject, @body, @tags, @thread_id, @reply_to, @metadata,
        @created_at, @expires_at, @idempotency_key, @request_hash, @fanout, @sealed);

-- name: insertDelivery
INSERT INTO deliveries (recipient, message_seq, priority, fanout) VALUES (?, ?, ?, ?);

-- name: findIdempotent
SELECT seq, request_hash FROM messages WHERE sender = ? AND idempotency_key = ?;

-- name: getMessage
SELECT * FROM messages WHERE id = ?;

-- name: getMessageBySeq
SELECT * FROM messages WHERE seq = ?;

-- name: recipientsOf
SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.id = ? ORDER BY d.recipient;

-- name: inboxOpen
-- One priority of an agent's open inbox, from floors below which all are closed (floors.ts).
-- Like every walk of an inbox, two ranges merged: the agent's rows in deliveries_inbox, and the
-- fan-out messages, each looked up by key (migration 0009). Each is limited on its own first.
SELECT * FROM (
  SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
  FROM deliveries d JOIN messages m ON m.seq = d.message_seq
  WHERE d.recipient = @recipient AND d.fanout = 0 AND d.priority = @rank AND d.message_seq >= @floor_indexed
    AND d.state IN ('pending', 'delivered', 'read') AND d.state IN (SELECT value FROM json_each(@states))
    AND (m.expires_at IS NULL OR m.expires_at > @now)
  ORDER BY d.message_seq LIMIT @limit)
UNION ALL
SELECT * FROM (
  SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
  FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
  WHERE m.fanout = 1 AND m.priority = @rank AND m.seq >= @floor_fanout
    AND d.state IN ('pending', 'delivered', 'read') AND d.state IN (SELECT value FROM json_each(@states))
    AND (m.expires_at IS NULL OR m.expires_at > @now)
  ORDER BY m.seq LIMIT @limit)
ORDER BY seq
LIMIT @limit;

-- name: inboxAll
SELECT * FROM (
  SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
  FROM deliveries d JOIN messages m ON m.seq = d.message_seq
  WHERE d.recipient = @recipient AND d.fanout = 0 AND d.state IN (SELECT value FROM json_each(@states))
  ORDER BY d.priority DESC, d.message_seq LIMIT @limit)
UNION ALL
SELECT * FROM (
  SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
  FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
  WHERE m.fanout = 1 AND d.state IN (SELECT value FROM json_each(@states))
  ORDER BY m.priority DESC, m.seq LIMIT @limit)
ORDER BY priority DESC, seq
LIMIT @limit;

-- name: markDelivered
UPDATE deliveries SET state = 'delivered', delivered_at = @at WHERE recipient = @recipient AND message_seq = @seq AND state = 'pending';

-- name: inboxItem
SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until
FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
WHERE m.id = @id;

-- name: markRead
UPDATE deliveries SET state = 'read', read_at = @at, delivered_at = COALESCE(delivered_at, @at)
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered');

-- name: markAcked
-- Positional, as it runs once per delivery acknowledged: at, delivered (null: at), at, attempts, seq, recipient.
UPDATE deliveries SET state = 'acked', acked_at = ?, delivered_at = COALESCE(delivered_at, ?, ?), attempts = max(attempts, ?),
  lease_until = NULL, lease_owner = NULL
WHERE message_seq = ? AND recipient = ? AND state <> 'acked';

-- name: addTotals
-- Deliveries that closed for good, added to their agent's totals: recipient, acked, expired, redelivered.
INSERT INTO delivery_totals (recipient, acked, expired, redelivered) VALUES (?, ?, ?, ?)
ON CONFLICT (recipient) DO UPDATE SET acked = acked + excluded.acked, expired = expired + excluded.expired,
  redelivered = redelivered + excluded.redelivered;

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

-- name: openPage
-- A page of an agent's open deliveries of one priority, for the in-memory hand-out (lease-book.ts):
-- the agent's range of deliveries_inbox and the fan-out messages, each after its own seq, merged.
SELECT * FROM (
  SELECT d.message_seq AS seq, d.priority AS rank, d.fanout, d.state, d.delivered_at, d.read_at, d.attempts, d.visible_at, m.id, m.expires_at
  FROM deliveries d JOIN messages m ON m.seq = d.message_seq
  WHERE d.recipient = @recipient AND d.fanout = 0 AND d.priority = @rank AND d.message_seq > @after_indexed AND d.message_seq <= @max
    AND d.state IN ('pending', 'delivered', 'read')
  ORDER BY d.message_seq LIMIT @limit)
UNION ALL
SELECT * FROM (
  SELECT d.message_seq AS seq, d.priority AS rank, d.fanout, d.state, d.delivered_at, d.read_at, d.attempts, d.visible_at, m.id, m.expires_at
  FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
  WHERE m.fanout = 1 AND m.priority = @rank AND m.seq > @after_fanout AND m.seq <= @max AND d.state IN ('pending', 'delivered', 'read')
  ORDER BY m.seq LIMIT @limit)
ORDER BY seq
LIMIT @limit;

-- name: firstOpenIndexed
-- The first open delivery of an agent's priority at or after a floor, among its rows in
-- deliveries_inbox: that floor moves up to it.
SELECT message_seq AS seq FROM deliveries
WHERE recipient = @recipient AND fanout = 0 AND priority = @rank AND message_seq >= @floor AND state IN ('pending', 'delivered', 'read')
ORDER BY message_seq
LIMIT 1;

-- name: firstOpenFanout
-- The same among fan-out messages.
SELECT m.seq FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
WHERE m.fanout = 1 AND m.priority = @rank AND m.seq >= @floor AND d.state IN ('pending', 'delivered', 'read')
ORDER BY m.seq
LIMIT 1;

-- name: recordHandOuts
-- A lease ended unacknowledged: the row learns of the hand-outs.
UPDATE deliveries SET attempts = max(attempts, @attempts), state = CASE WHEN state = 'pending' THEN 'delivered' ELSE state END,
  delivered_at = COALESCE(delivered_at, @delivered)
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered', 'read');

-- name: deadOne
-- Open deliveries only: the sweep decides on the event loop and writes on the writer thread, and an
-- ack committed in between must stay acknowledged.
UPDATE deliveries SET state = 'dead', dead_at = @now, dead_reason = @reason, attempts = max(attempts, @attempts), lease_until = NULL, lease_owner = NULL
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered', 'read');

-- name: expireOne
UPDATE deliveries SET state = 'expired', lease_until = NULL, lease_owner = NULL
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered', 'read')
RETURNING recipient, attempts;

-- name: nackOne
UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, visible_at = @visible_at, attempts = max(attempts, @attempts)
WHERE recipient = @recipient AND message_seq = @seq AND state IN ('pending', 'delivered', 'read');

-- name: releaseAll
UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_until IS NOT NULL;

-- name: sweepExpired
UPDATE deliveries SET state = 'expired', lease_until = NULL, lease_owner = NULL
WHERE state IN ('pending', 'delivered', 'read')
  AND message_seq IN (SELECT seq FROM messages WHERE expires_at IS NOT NULL AND expires_at <= @now)
RETURNING recipient, attempts;

-- name: sweepDead
UPDATE deliveries SET state = 'dead', dead_at = @now, dead_reason = 'not acknowledged after ' || attempts || ' deliveries',
  lease_until = NULL, lease_owner = NULL
WHERE lease_until IS NOT NULL AND lease_until <= @now AND attempts >= @max AND state IN ('pending', 'delivered', 'read');

-- name: nextWake
SELECT min(t) AS t FROM (
  SELECT min(lease_until) AS t FROM deliveries WHERE lease_until > @now AND recipient = @recipient AND state IN ('pending', 'delivered', 'read')
  UNION ALL
  SELECT min(visible_at) AS t FROM deliveries WHERE recipient = @recipient AND visible_at > @now AND state IN ('pending', 'delivered', 'read')
);

-- name: queueTotals
SELECT recipient AS agent, acked, expired, redelivered FROM delivery_totals;

-- name: queueDead
SELECT recipient AS agent, count(*) AS dead, sum(max(attempts - 1, 0)) AS redelivered FROM deliveries WHERE state = 'dead' GROUP BY recipient;

-- name: queueOpen
-- An agent's open deliveries of one priority, counted from its floors (both ranges, as in openPage).
SELECT count(*) AS n,
  coalesce(sum(lease_until IS NULL OR lease_until <= @now), 0) AS depth,
  coalesce(sum(coalesce(lease_until > @now, 0)), 0) AS in_flight,
  coalesce(sum((lease_until IS NULL OR lease_until <= @now) AND coalesce(visible_at > @now, 0)), 0) AS delayed,
  coalesce(sum(max(attempts - 1, 0)), 0) AS redelivered
FROM (
  SELECT lease_until, visible_at, attempts FROM deliveries
  WHERE recipient = @recipient AND fanout = 0 AND priority = @rank AND message_seq >= @floor_indexed AND state IN ('pending', 'delivered', 'read')
  UNION ALL
  SELECT d.lease_until, d.visible_at, d.attempts FROM messages m JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
  WHERE m.fanout = 1 AND m.priority = @rank AND m.seq >= @floor_fanout AND d.state IN ('pending', 'delivered', 'read')
);

-- name: loadFloors
SELECT recipient, slot, seq FROM inbox_floors;

-- name: saveFloor
INSERT INTO inbox_floors (recipient, slot, seq) VALUES (?, ?, ?) ON CONFLICT (recipient, slot) DO UPDATE SET seq = excluded.seq;

-- name: lowerFloors
-- A delivery of this priority rank open again: both of the agent's floors for the rank go back to it.
UPDATE inbox_floors SET seq = min(seq, @seq) WHERE recipient = @recipient AND slot IN (2 * @rank, 2 * @rank + 1);

-- name: agentIds
SELECT id FROM agents;

-- name: deadLetters
SELECT m.*, d.recipient AS d_recipient, d.state AS d_state, d.delivered_at AS d_delivered_at, d.read_at AS d_read_at, d.acked_at AS d_acked_at, d.attempts AS d_attempts, d.handout AS d_handout, d.lease_until AS d_lease_until, d.dead_reason AS d_dead_reason, d.dead_at AS d_dead_at
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.state = 'dead' AND (@recipient IS NULL OR d.recipient = @recipient)
ORDER BY d.dead_at, d.message_seq
LIMIT @limit;

-- name: deadOf
SELECT d.recipient AS recipient, m.id AS id, d.message_seq AS seq, d.priority AS rank, d.fanout, d.delivered_at, d.read_at, m.expires_at
FROM deliveries d JOIN messages m ON m.seq = d.message_seq
WHERE d.state = 'dead' AND (@recipient IS NULL OR d.recipient = @recipient);

-- name: retryDeadOne
UPDATE deliveries SET state = 'pending', attempts = 0, dead_at = NULL, dead_reason = NULL, visible_at = NULL, lease_until = NULL, lease_owner = NULL
WHERE recipient = @recipient AND message_seq = @seq AND state = 'dead';

-- name: maxSeq
SELECT coalesce(max(seq), 0) AS n FROM messages;

-- name: maxHandout
SELECT coalesce(max(handout), 0) AS n FROM deliveries;

-- name: indexPending
INSERT INTO messages_fts(rowid, subject, body)
SELECT seq, subject, body FROM messages WHERE seq > (SELECT indexed_seq FROM search_progress WHERE id = 1) ORDER BY seq LIMIT @limit;

-- name: markIndexed
UPDATE search_progress SET indexed_seq = (SELECT coalesce(max(rowid), 0) FROM messages_fts) WHERE id = 1;

-- name: insertMessageChannel
INSERT OR IGNORE INTO message_channels (channel, message_seq) VALUES (?, ?);

-- name: historyChannel
SELECT m.* FROM messages m JOIN message_channels mc ON mc.message_seq = m.seq AND mc.channel = @channel
WHERE (@viewer IS NULL OR m.sender = @viewer OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = @viewer))
  AND (@agent IS NULL OR m.sender = @agent OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.recipient = @agent))
  AND (@since IS NULL OR m.created_at >= @since)
  AND (@type IS NULL OR m.type = @type)
  AND (@search IS NULL OR m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH @search))
ORDER BY m.seq DESC
LIMIT @limit;

-- name: insertChannel
INSERT INTO channels (name, description, auto_join, created_by, created_at) VALUES (@name, @description, @auto_join, @created_by, @created_at)
ON CONFLICT (name) DO NOTHING;

-- name: getChannel
SELECT c.*, (SELECT count(*) FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL WHERE cm.channel = c.name) AS members
FROM channels c WHERE c.name = ?;

-- name: listChannels
SELECT c.*, (SELECT count(*) FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL WHERE cm.channel = c.name) AS members
FROM channels c ORDER BY c.name;

-- name: joinChannel
INSERT OR IGNORE INTO channel_members (channel, agent_id, joined_at) VALUES (?, ?, ?);

-- name: leaveChannel
DELETE FROM channel_members WHERE channel = ? AND agent_id = ?;

-- name: channelMembers
SELECT cm.agent_id AS id FROM channel_members cm JOIN agents a ON a.id = cm.agent_id AND a.removed_at IS NULL
WHERE cm.channel = ? ORDER BY cm.agent_id;

-- name: autoJoin
INSERT OR IGNORE INTO channel_members (channel, agent_id, joined_at) SELECT name, ?, ? FROM channels WHERE auto_join = 1;

-- name: insertTask
INSERT INTO tasks (id, title, description, points, role, capabilities, priority, status, created_by, created_at)
VALUES (@id, @title, @description, @points, @role, @capabilities, @priority, 'open', @created_by, @created_at);

-- name: getTask
SELECT * FROM tasks WHERE id = ?;

-- name: listTasks
SELECT * FROM tasks
WHERE (@status IS NULL OR status = @status) AND (@assignee IS NULL OR assignee = @assignee)
ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, CASE WHEN status = 'open' THEN -priority ELSE 0 END,
  CASE WHEN status = 'open' THEN seq ELSE -seq END
LIMIT @limit;

-- name: silentClaims
-- Claims older than @since whose assignee is removed or silent since then, by the tasks_claimed index.
SELECT t.* FROM tasks t LEFT JOIN agents a ON a.id = t.assignee
WHERE t.status = 'claimed' AND t.claimed_at < @since
  AND (a.id IS NULL OR a.removed_at IS NOT NULL OR coalesce(a.last_seen_at, 0) < @since)
ORDER BY t.claimed_at
LIMIT @limit;

-- name: openTasks
SELECT * FROM tasks WHERE status = 'open' ORDER BY priority DESC, seq;

-- name: updateTask
UPDATE tasks SET status = @status, assignee = @assignee, claimed_at = @claimed_at, done_at = @done_at, note = @note,
  verified_at = @verified_at, verified_by = @verified_by, thread_id = @thread_id
WHERE id = @id;

-- name: maxRound
SELECT coalesce(max(round), 0) AS n FROM reviews WHERE task_id = ?;

-- name: insertReview
INSERT OR IGNORE INTO reviews (task_id, round, reviewer, requested_by, requested_at) VALUES (?, ?, ?, ?, ?);

-- name: decideReview
UPDATE reviews SET verdict = @verdict, comment = @comment, decided_at = @at WHERE task_id = @task_id AND round = @round AND reviewer = @reviewer;

-- name: reviewsOf
SELECT * FROM reviews WHERE task_id = ? ORDER BY round, reviewer;

-- name: leaderboard
SELECT agent, sum(points) AS points, sum(verified) AS tasks_verified, sum(done) AS tasks_done, sum(reviews) AS reviews_given FROM (
  SELECT assignee AS agent, points, 1 AS verified, 0 AS done, 0 AS reviews FROM tasks
    WHERE status = 'verified' AND assignee IS NOT NULL AND (@since IS NULL OR verified_at >= @since)
  UNION ALL
  SELECT assignee, 0, 0, 1, 0 FROM tasks
    WHERE status IN ('done', 'verified') AND assignee IS NOT NULL AND (@since IS NULL OR done_at >= @since)
  UNION ALL
  SELECT reviewer, 0, 0, 0, 1 FROM reviews WHERE verdict IS NOT NULL AND (@since IS NULL OR decided_at >= @since)
) GROUP BY agent ORDER BY points DESC, tasks_verified DESC, agent;

-- name: getTemplate
SELECT * FROM templates WHERE name = ?;

-- name: listTemplates
SELECT * FROM templates ORDER BY name;

-- name: setTemplate
INSERT INTO templates (name, body, updated_by, updated_at) VALUES (@name, @body, @updated_by, @updated_at)
ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: insertSetting
INSERT INTO settings (key, value, previous, author, note, created_at) VALUES (@key, @value, @previous, @author, @note, @created_at);

-- name: currentSettings
SELECT s.key AS key, s.value AS value, s.version AS version FROM settings s
WHERE s.version = (SELECT max(version) FROM settings WHERE key = s.key);

-- name: settingsAt
SELECT s.key AS key, s.value AS value FROM settings s
WHERE s.version = (SELECT max(version) FROM settings WHERE key = s.key AND version <= @version);

-- name: settingsHistory
SELECT * FROM settings ORDER BY version DESC LIMIT @limit;

-- name: settingsVersion
SELECT coalesce(max(version), 0) AS n FROM settings;

-- name: ackTarget
SELECT m.seq AS seq, m.id AS id, d.state AS state, d.priority AS rank, d.attempts AS attempts FROM messages m
JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = @recipient
WHERE m.id = @id;

-- name: scanMessages
SELECT * FROM messages WHERE id > @after ORDER BY id LIMIT @limit;

-- name: rewriteMessage
UPDATE messages SET subject = @subject, body = @body, metadata = @metadata, sealed = @sealed WHERE id = @id;

-- name: sealedEnds
SELECT sealed FROM messages WHERE seq IN ((SELECT min(seq) FROM messages), (SELECT max(seq) FROM messages)) AND sealed IS NOT NULL AND sealed <> 'legacy';

-- name: legacySealed
SELECT * FROM messages WHERE sealed = 'legacy' ORDER BY seq LIMIT @limit;

-- name: messageCount
SELECT count(*) AS n FROM messages;

-- name: keyRotation
SELECT * FROM key_rotations ORDER BY id DESC LIMIT 1;

-- name: getKeyRotation
SELECT * FROM key_rotations WHERE id = @id;

-- name: abandonKeyRotation
UPDATE key_rotations SET state = 'failed', finished_at = @now, updated_at = @now,
  error = 'abandoned: the process running it stopped; replaced by ' || @by
WHERE id = @id AND state = 'running';

-- name: insertKeyRotation
INSERT INTO key_rotations (id, key_id, previous, state, owner, after_id, scanned, rewritten, skipped, total, started_by, started_at, updated_at, finished_at, error)
VALUES (@id, @key_id, @previous, @state, @owner, @after_id, @scanned, @rewritten, @skipped, @total, @started_by, @started_at, @updated_at, @finished_at, @error);

-- name: updateKeyRotation
UPDATE key_rotations SET key_id = @key_id, previous = @previous, state = @state, owner = @owner, after_id = @after_id, scanned = @scanned,
  rewritten = @rewritten, skipped = @skipped, updated_at = @updated_at, finished_at = @finished_at, error = @error
WHERE id = @id AND owner = @expected_owner AND state = 'running';

-- name: ftsDelete
INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', @seq, @subject, @body);

-- name: ftsInsert
INSERT INTO messages_fts(rowid, subject, body) VALUES (@seq, @subject, @body);

-- name: indexedSeq
SELECT indexed_seq AS n FROM search_progress WHERE id = 1;
-- name: auditLast
SELECT seq, at, hash FROM audit ORDER BY seq DESC LIMIT 1;

-- name: insertAudit
INSERT INTO audit (seq, at, actor, action, target, request_id, outcome, detail, prev_hash, hash)
VALUES (@seq, @at, @actor, @action, @target, @request_id, @outcome, @detail, @prev_hash, @hash);

-- name: auditRecords
-- Newest first; each filter applies when given (NULL: any).
SELECT * FROM audit
WHERE (@since IS NULL OR at >= @since) AND (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action)
ORDER BY seq DESC LIMIT @limit;

-- name: auditChain
SELECT * FROM audit WHERE seq > @after ORDER BY seq LIMIT @limit;

-- ---- delivery targets (targets.ts) ------------------------------------------------------------

-- name: anyTarget
SELECT EXISTS (SELECT 1 FROM targets) AS n;

-- name: queueForTargets
-- In the send's transaction (commits.ts): a copy for each target of a recipient whose filter lets
-- the message through. @recipients and @channels are JSON arrays.
INSERT INTO target_deliveries (target_id, message_seq, visible_at)
SELECT t.id, @seq, @now FROM targets t
WHERE t.agent_id IN (SELECT value FROM json_each(@recipients))
  AND t.min_priority <= @priority
  AND (t.types IS NULL OR EXISTS (SELECT 1 FROM json_each(t.types) WHERE value = @type))
  AND (t.senders IS NULL OR EXISTS (SELECT 1 FROM json_each(t.senders) WHERE value = @sender))
  AND (t.channels IS NULL OR EXISTS (SELECT 1 FROM json_each(t.channels) c JOIN json_each(@channels) m ON c.value = m.value));

-- name: insertTarget
INSERT INTO targets (id, agent_id, kind, settings, secret, secret_sealed, min_priority, types, channels, senders, created_by, created_at)
VALUES (@id, @agent_id, @kind, @settings, @secret, @secret_sealed, @min_priority, @types, @channels, @senders, @created_by, @created_at);

-- name: getTarget
SELECT * FROM targets WHERE id = ?;

-- name: listTargets
SELECT * FROM targets WHERE agent_id = ? ORDER BY created_at, id;

-- name: listAllTargets
SELECT * FROM targets ORDER BY created_at, id;

-- name: deleteTarget
DELETE FROM targets WHERE id = ?;

-- name: deleteTargetDeliveries
DELETE FROM target_deliveries WHERE target_id = ?;

-- name: dueTargetDeliveries
SELECT td.message_seq, td.attempts, td.owner, m.*
FROM target_deliveries td JOIN messages m ON m.seq = td.message_seq
WHERE td.target_id = @target AND td.state = 'pending' AND td.visible_at <= @now
ORDER BY td.message_seq LIMIT @limit;

-- name: leaseTargetDelivery
UPDATE target_deliveries SET attempts = attempts + 1, owner = @owner, visible_at = @until
WHERE target_id = @target AND message_seq = @seq;

-- name: killTargetDelivery
UPDATE target_deliveries SET state = 'dead', owner = NULL, last_error = @error
WHERE target_id = @target AND message_seq = @seq;

-- name: targetDeliveryOf
SELECT td.message_seq, td.owner, td.state FROM target_deliveries td JOIN messages m ON m.seq = td.message_seq
WHERE td.target_id = ? AND m.id = ?;

-- name: doneTargetDelivery
DELETE FROM target_deliveries WHERE target_id = ? AND message_seq = ?;

-- name: retryTargetDelivery
UPDATE target_deliveries SET owner = NULL, visible_at = @retry_at, last_error = @error
WHERE target_id = @target AND message_seq = @seq;

-- name: targetSucceeded
-- At most once a second (as on PostgreSQL, where the row is shared by concurrent settlements).
UPDATE targets SET last_success_at = @at WHERE id = @id AND (last_success_at IS NULL OR last_success_at < @at - 1000);

-- name: targetFailed
UPDATE targets SET last_error = ?, last_error_at = ? WHERE id = ?;

-- name: targetBacklog
SELECT td.target_id,
       sum(td.state = 'pending') AS pending,
       sum(td.state = 'dead') AS dead,
       min(CASE WHEN td.state = 'pending' THEN m.created_at END) AS oldest_at
FROM target_deliveries td JOIN messages m ON m.seq = td.message_seq
WHERE td.target_id IN (SELECT value FROM json_each(?))
GROUP BY td.target_id;

-- name: retryTargetDead
UPDATE target_deliveries SET state = 'pending', attempts = 0, owner = NULL, visible_at = ?, last_error = NULL
WHERE target_id = ? AND state = 'dead';

-- name: noteTargetBreaker
UPDATE targets SET breaker = ?, breaker_until = ? WHERE id = ?;

-- name: storeTargetSecret
UPDATE targets SET secret = ?, secret_sealed = ? WHERE id = ?;

-- ---- retention (retention.ts) ---------------------------------------------------------------

-- name: retentionCandidates
-- A window of seqs (the primary key), so that a pass never scans the whole table: messages
-- created before @before whose deliveries are all acknowledged or expired and with no queued push.
SELECT m.*, (SELECT json_group_array(mc.channel) FROM message_channels mc WHERE mc.message_seq = m.seq) AS channels
FROM messages m
WHERE m.seq > @after AND m.seq <= @after + @window AND m.created_at < @before
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.state NOT IN ('acked', 'expired'))
  AND NOT EXISTS (SELECT 1 FROM target_deliveries td WHERE td.message_seq = m.seq)
ORDER BY m.seq;

-- name: nextMessageAfter
SELECT seq, created_at FROM messages WHERE seq > ? ORDER BY seq LIMIT 1;

-- name: retentionDeleteDeliveries
DELETE FROM deliveries WHERE message_seq = ?;

-- name: retentionDeleteChannels
DELETE FROM message_channels WHERE message_seq = ?;

-- name: retentionDeleteMessage
-- The search index entry goes with it (the messages_fts_delete trigger).
DELETE FROM messages WHERE seq = ?;

-- name: retentionStillClosed
SELECT NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = @seq AND d.state NOT IN ('acked', 'expired'))
   AND NOT EXISTS (SELECT 1 FROM target_deliveries td WHERE td.message_seq = @seq) AS closed;

-- name: auditCheckpoint
SELECT seq, hash, at, trimmed_at FROM audit_checkpoint WHERE id = 1;

-- name: auditTrimmable
-- The oldest records before @before, never the newest one (the next append chains onto it).
SELECT seq, hash, at FROM audit WHERE at < @before AND seq < (SELECT max(seq) FROM audit) ORDER BY seq LIMIT @limit;

-- name: auditTrimThrough
DELETE FROM audit WHERE seq <= ?;

-- name: auditSetCheckpoint
INSERT INTO audit_checkpoint (id, seq, hash, at, trimmed_at) VALUES (1, @seq, @hash, @at, @trimmed_at)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at, trimmed_at = excluded.trimmed_at;
