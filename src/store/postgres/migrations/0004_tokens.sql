-- Tokens with expiry, scopes and last use; the `observer` role.
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent', 'captain', 'admin', 'observer'));

ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
-- JSON array of operation names; NULL: whatever the agent's role allows.
ALTER TABLE tokens ADD COLUMN scopes JSONB;
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
