-- The full-text index is no longer written inside each send's transaction (it cost about half of
-- the store's time per send, docs/benchmarks.md): the adapter indexes new messages in batches, in
-- seq order, and records how far it got here. A search first indexes whatever is still pending,
-- so it never misses a committed message. Existing messages were indexed by the old trigger.

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;

CREATE TABLE search_progress (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_seq  INTEGER NOT NULL
);
INSERT INTO search_progress (id, indexed_seq) SELECT 1, coalesce(max(seq), 0) FROM messages;

-- Only indexed rows may be removed from the index (FTS5 external content requires it).
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.seq <= (SELECT indexed_seq FROM search_progress WHERE id = 1) BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.seq, old.subject, old.body);
END;
