-- Deliveries keyed by (message_seq, recipient): a broadcast's rows sit together, so writing them
-- and acknowledging them touches a few pages instead of one per recipient. Each agent's inbox order
-- is the index deliveries_inbox, over every state: an ack changes no index. It replaces the
-- partial index of open deliveries, which cost a B-tree insert per delivery and a B-tree delete
-- per ack (docs/benchmarks.md). Open deliveries are found by walking an agent's inbox of one
-- priority from a floor below which all are closed (sqlite-store.ts `floor`); delayed ones through
-- deliveries_delayed.
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
  PRIMARY KEY (message_seq, recipient)
) WITHOUT ROWID;

INSERT INTO deliveries_v3 SELECT recipient, message_seq, priority, state, delivered_at, read_at, acked_at, attempts, lease_until,
  lease_owner, handout, visible_at, dead_at, dead_reason FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;

CREATE INDEX deliveries_inbox ON deliveries(recipient, priority DESC, message_seq);
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries(recipient, dead_at) WHERE state = 'dead';
CREATE INDEX deliveries_delayed ON deliveries(recipient, visible_at) WHERE visible_at IS NOT NULL;
