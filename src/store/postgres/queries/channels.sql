-- Channels and their members (channels.ts).

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
