-- The directory version: every process caches agents and tokens (postgres/directory.ts) and must
-- learn, within a stated bound, that one was revoked, removed or changed by another process. Every
-- statement that changes who exists or what a token allows bumps this counter in its own
-- transaction and notifies the store's event channel at commit; processes drop their caches on the
-- notification, and poll the counter in case a notification was lost (a broken LISTEN connection).
-- Sightings, status and mission do not count (they change all the time; cached agents are re-read
-- after a second anyway), nor does a token's last use.
CREATE TABLE directory_version (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  version  BIGINT NOT NULL,
  -- The LISTEN/NOTIFY channel of this schema's processes (set by every process at start).
  channel  TEXT NOT NULL DEFAULT ''
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

DO $migration$
DECLARE
  here text := current_schema();
BEGIN
  EXECUTE format(
    $f$CREATE FUNCTION %1$I.swarm_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
       DECLARE ch text;
       BEGIN
         UPDATE %1$I.directory_version SET version = version + 1 WHERE id = 1 RETURNING channel INTO ch;
         IF ch <> '' THEN
           PERFORM pg_notify(ch, '{"o":"db","e":{"type":"directory"}}');
         END IF;
         RETURN NULL;
       END $body$$f$,
    here);
END
$migration$;

CREATE TRIGGER agents_directory AFTER INSERT OR DELETE OR UPDATE OF role, removed_at ON agents
  FOR EACH STATEMENT EXECUTE FUNCTION swarm_directory_changed();
CREATE TRIGGER tokens_directory AFTER INSERT OR DELETE OR UPDATE OF agent_id, hash, revoked_at, expires_at, scopes ON tokens
  FOR EACH STATEMENT EXECUTE FUNCTION swarm_directory_changed();
