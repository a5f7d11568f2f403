-- Shared settings: a versioned history, one row per change (settings.ts).

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
