-- Deliveries keyed by (message_seq, recipient): a message's rows sit together, so writing them
-- and acknowledging them touches a few pages instead of one per recipient. It replaces the partial
-- index of open deliveries, which cost a B-tree insert per delivery and a B-tree delete per ack
-- (docs/benchmarks.md). An agent's inbox is found two ways:
--  * most messages: the index deliveries_inbox, in inbox order, over every state (an ack changes
--    no index);
--  * a fan-out message (16 recipients or more, and half the roster or more; sqlite-store.ts
--    `isFanOut`): its rows are left out of that index, which would cost one index page per
--    recipient at every commit; an agent walks the fan-out messages (messages_fanout) and looks
--    its row up by key.
-- Open deliveries are walked per priority from floors below which all are closed (sqlite-store.ts
-- `floors`); delayed ones are found through deliveries_delayed. What the closed ones add up to per
-- agent is kept in delivery_totals, so that queue stats need not read the whole history.
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

-- Per agent, its deliveries that closed for good (acknowledged, expired; a dead letter may be
-- retried, so those are counted from deliveries_dead): updated in the transaction that closes them.
CREATE TABLE delivery_totals (
  recipient    TEXT PRIMARY KEY,
  acked        INTEGER NOT NULL DEFAULT 0,
  expired      INTEGER NOT NULL DEFAULT 0,
  -- Hand-outs after the first, of those deliveries.
  redelivered  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO delivery_totals (recipient, acked, expired, redelivered)
SELECT recipient, sum(state = 'acked'), sum(state = 'expired'), sum(max(attempts - 1, 0))
FROM deliveries WHERE state IN ('acked', 'expired') GROUP BY recipient;

-- The floors of sqlite-store.ts `floors`, kept across restarts so that the first walk of an inbox
-- does not read the agent's whole history. slot: 2 * priority rank, + 1 for fan-out messages. A
-- floor saved may be lower than the one in memory (it is saved now and then), never higher: a dead
-- letter retried lowers it in the same transaction.
CREATE TABLE inbox_floors (
  recipient  TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (recipient, slot)
) WITHOUT ROWID;

-- Floors of the deliveries already there (all in deliveries_inbox: none is a fan-out one yet), so
-- that the first walks after the upgrade do not read the whole history: per agent and priority
-- rank (0-3), the first open delivery, or past the last message when there is none.
INSERT INTO inbox_floors (recipient, slot, seq)
SELECT a.id, 2 * r.rank + k.fanout, CASE WHEN k.fanout = 1 THEN n.next ELSE coalesce(o.first, n.next) END
FROM agents a
CROSS JOIN (SELECT 0 AS rank UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) r
CROSS JOIN (SELECT 0 AS fanout UNION ALL SELECT 1) k
CROSS JOIN (SELECT coalesce(max(seq), 0) + 1 AS next FROM messages) n
LEFT JOIN (SELECT recipient, priority, min(message_seq) AS first FROM deliveries
           WHERE state IN ('pending', 'delivered', 'read') GROUP BY recipient, priority) o
  ON o.recipient = a.id AND o.priority = r.rank;
