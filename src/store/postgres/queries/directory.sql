-- The directory version behind the cache (directory.ts), and where its triggers notify (postgres-store.ts startDirectory).

-- name: directoryVersion
SELECT version FROM directory_version WHERE id = 1;

-- name: setEventChannel
UPDATE directory_version SET channel = $1 WHERE id = 1 AND channel <> $1;
