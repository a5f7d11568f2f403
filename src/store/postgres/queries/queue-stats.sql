-- Queue counters: changed with the deliveries, folded by the sweeper, read as queue stats (queue-stats.ts).

-- name: queueStats
-- $1 now. Totals from the counters; in flight and delayed from their partial indexes.
WITH totals AS (
  SELECT recipient, sum(open) AS open, sum(acked) AS acked, sum(expired) AS expired, sum(dead) AS dead, sum(redeliveries) AS redeliveries
  FROM queue_counts GROUP BY recipient
), flight AS (
  SELECT recipient, count(*) AS n FROM deliveries
  WHERE lease_until > $1 AND state IN ('pending', 'delivered', 'read') GROUP BY recipient
), later AS (
  SELECT recipient, count(*) AS n FROM deliveries
  WHERE visible_at > $1 AND state IN ('pending', 'delivered', 'read') AND (lease_until IS NULL OR lease_until <= $1) GROUP BY recipient
)
SELECT t.recipient AS agent, (t.open - coalesce(f.n, 0))::bigint AS depth, coalesce(f.n, 0)::bigint AS in_flight, coalesce(l.n, 0)::bigint AS delayed,
  t.redeliveries::bigint AS redeliveries, t.dead::bigint AS dead, t.acked::bigint AS acked, t.expired::bigint AS expired
FROM totals t LEFT JOIN flight f ON f.recipient = t.recipient LEFT JOIN later l ON l.recipient = t.recipient
ORDER BY t.recipient;

-- name: addQueueCounts
-- $1 agents, $2 open, $3 acked, $4 expired, $5 dead, $6 redeliveries (pairwise): changes made by a
-- lease or a retry in the same transaction.
INSERT INTO queue_counts (recipient, open, acked, expired, dead, redeliveries)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]);

-- name: compactQueueCounts
-- One row per agent again. Rows appended meanwhile are not in this statement's snapshot: they stay.
WITH gone AS (DELETE FROM queue_counts RETURNING *)
INSERT INTO queue_counts (recipient, open, acked, expired, dead, redeliveries)
SELECT recipient, sum(open), sum(acked), sum(expired), sum(dead), sum(redeliveries) FROM gone GROUP BY recipient;

-- name: queueCountRows
SELECT count(*)::int AS n FROM queue_counts;
