-- Delivery targets (issue 14, src/domain/target.ts): where the worker pushes an agent's messages.
-- `settings` is the kind's JSON without the webhook secret, which sits in `secret`, sealed like
-- message bodies when encryption at rest is on (`secret_sealed` names the key). The filter's lists
-- are arrays, NULL for "any".
CREATE TABLE targets (
  id               TEXT COLLATE "C" PRIMARY KEY,
  agent_id         TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('webhook', 'file', 'tmux', 'command')),
  settings         JSONB NOT NULL,
  secret           TEXT NOT NULL DEFAULT '',
  secret_sealed    TEXT,
  min_priority     SMALLINT NOT NULL DEFAULT 0,
  types            TEXT[],
  channels         TEXT[],
  senders          TEXT[],
  created_by       TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  last_success_at  BIGINT,
  last_error       TEXT,
  last_error_at    BIGINT,
  -- The circuit breaker as the worker that pushes to it last saw it: closed, open, half-open.
  breaker          TEXT NOT NULL DEFAULT 'closed',
  breaker_until    BIGINT
);
CREATE INDEX targets_agent ON targets(agent_id);

-- One row per (target, message) the filter let through, queued in the send's own statement, so a
-- send the hub answered is never missing from a target's queue. Deleted once pushed; 'dead' after
-- delivery.maxAttempts, with the last error. Workers lease rows with FOR UPDATE SKIP LOCKED,
-- setting `owner` and moving `visible_at` to the end of the lease: a worker that dies leaves them
-- visible again then.
CREATE TABLE target_deliveries (
  target_id    TEXT COLLATE "C" NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  message_seq  BIGINT NOT NULL,
  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  visible_at   BIGINT NOT NULL,
  owner        TEXT,
  last_error   TEXT,
  PRIMARY KEY (target_id, message_seq)
);
CREATE INDEX target_deliveries_due ON target_deliveries(target_id, visible_at) WHERE state = 'pending';
