-- Leases, redelivery and dead letters. A delivery handed to a stream consumer is leased until
-- lease_until; an unacked lease expires and the delivery is handed out again, up to the
-- configured attempts, then it is dead with a reason. visible_at delays a nacked delivery.
-- `handout` numbers hand-outs per hub (the SSE event id, for resuming). SQLite cannot alter a
-- CHECK constraint, so the table is rebuilt.

CREATE TABLE deliveries_v2 (
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
  PRIMARY KEY (recipient, message_seq)
) WITHOUT ROWID;

INSERT INTO deliveries_v2 (recipient, message_seq, priority, state, delivered_at, read_at, acked_at)
SELECT recipient, message_seq, priority, state, delivered_at, read_at, acked_at FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;

CREATE INDEX deliveries_open ON deliveries(recipient, priority DESC, message_seq) WHERE state IN ('pending', 'delivered', 'read');
CREATE INDEX deliveries_message ON deliveries(message_seq);
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries(recipient, dead_at) WHERE state = 'dead';
CREATE INDEX messages_expires ON messages(expires_at) WHERE expires_at IS NOT NULL;
