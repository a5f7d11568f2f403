-- Deliveries keyed by (message_seq, recipient): a message's rows sit together, so writing them
-- and acknowledging them touches a few pages instead of one per recipient. It replaces the partial
-- index of open deliveries, which cost a B-tree insert per delivery and a B-tree delete per ack
-- (docs/benchmarks.md). An agent's inbox is found two ways:
--  * most messages: the index deliveries_inbox, in inbox order, over every state (an ack changes
--    no index);
--  * a fan-out message (one that reaches at least half the roster, sqlite-store.ts `isFanOut`):
--    its rows are left out of that index, which would cost one index page per recipient at every
--    commit; an agent walks the fan-out messages (messages_fanout) and looks its row up by key.
-- Open deliveries are walked per priority from a floor below which all are closed (sqlite-store.ts
-- `floor`); delayed ones are found through deliveries_delayed.
ALTER TABLE messages ADD COLUMN fanout INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_fanout ON messages(priority DESC, seq) WHERE fanout = 1;

CREATE TABLE deliveries_v3 (
  recipient     TEXT NOT NULL,
  message_seq   INTEGER NOT NULL,
  priority      INTEGER NOT NULL,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'read', 'acked', 'expired', 'dead')),
  delivered_at  INTEGER,
  read_at       INTEGER,
  acked_at      INTEGER,
  attempts      INTEGER NOT NULL DEFAULT 0,
  lease_until   INTEGER,
  lease_owner   TEXT,
  handout       INTEGER,
  visible_at    INTEGER,
  dead_at       INTEGER,
  dead_reason   TEXT,
  -- 1: the message's fanout, kept here for the partial index deliveries_inbox.
  fanout        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (message_seq, recipient)
) WITHOUT ROWID;

INSERT INTO deliveries_v3 SELECT recipient, message_seq, priority, state, delivered_at, read_at, acked_at, attempts, lease_until,
  lease_owner, handout, visible_at, dead_at, dead_reason, 0 FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;

CREATE INDEX deliveries_inbox ON deliveries(recipient, priority DESC, message_seq) WHERE fanout = 0;
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries(recipient, dead_at) WHERE state = 'dead';
CREATE INDEX deliveries_delayed ON deliveries(recipient, visible_at) WHERE visible_at IS NOT NULL;
