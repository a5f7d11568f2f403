-- Tokens: issued, looked up by hash, revoked (tokens.ts).

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

-- name: lockTokens
-- Minting the hub's own credential (bootstrapToken): one process at a time, across every process,
-- until the transaction ends. Conflicts with itself and with writes to tokens, not with reads.
LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE;

-- name: revokeToken
UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING agent_id;

-- name: touchToken
UPDATE tokens SET last_used_at = greatest(coalesce(last_used_at, 0), $2::bigint) WHERE id = $1;

-- name: hasLiveToken
SELECT 1 FROM tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.agent_id = $1 AND t.revoked_at IS NULL AND a.removed_at IS NULL LIMIT 1;
