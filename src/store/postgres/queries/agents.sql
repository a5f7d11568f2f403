-- Agents: registration, presence and removal (agents.ts).

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
