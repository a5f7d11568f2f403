-- Tasks, review rounds and the leaderboard (tasks.ts).

-- name: insertTask
INSERT INTO tasks (id, title, description, points, role, capabilities, priority, status, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'open', $8, $9)
RETURNING seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
          verified_at, verified_by, created_by, created_at, thread_id;

-- name: getTask
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks WHERE id = $1;

-- name: lockTask
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks WHERE id = $1
FOR UPDATE;

-- name: listTasks
-- $1 status, $2 assignee, $3 limit. Open tasks first by priority then age; others newest first.
SELECT seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
       verified_at, verified_by, created_by, created_at, thread_id
FROM tasks
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR assignee = $2)
ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, CASE WHEN status = 'open' THEN -priority ELSE 0 END,
  CASE WHEN status = 'open' THEN seq ELSE -seq END
LIMIT $3;

-- name: silentClaims
-- $1 silent since, $2 limit. From the agents that are removed or silent (a roster, not the board),
-- then their claims by the tasks_assignee index.
SELECT t.seq, t.id, t.title, t.description, t.points, t.role, t.capabilities, t.priority, t.status, t.assignee, t.claimed_at, t.done_at,
       t.note, t.verified_at, t.verified_by, t.created_by, t.created_at, t.thread_id
FROM agents a JOIN tasks t ON t.assignee = a.id AND t.status = 'claimed'
WHERE (a.removed_at IS NOT NULL OR coalesce(a.last_seen_at, 0) < $1) AND t.claimed_at < $1
ORDER BY t.claimed_at
LIMIT $2;

-- name: claimNext
-- $1 agent, $2 its role, $3 its capabilities (JSON array), $4 time. The best open task that fits
-- (domain/task.ts `fits`: no role or the agent's; every capability among the agent's), walked by
-- the tasks_open index and claimed in the same statement. A task another caller is claiming right
-- now is skipped rather than waited for, so concurrent callers get different tasks.
UPDATE tasks SET status = 'claimed', assignee = $1, claimed_at = $4
WHERE seq = (
  SELECT seq FROM tasks
  WHERE status = 'open' AND (role IS NULL OR role = $2) AND capabilities <@ $3::jsonb
  ORDER BY priority DESC, seq
  LIMIT 1
  FOR UPDATE SKIP LOCKED
)
RETURNING seq, id, title, description, points, role, capabilities, priority, status, assignee, claimed_at, done_at, note,
          verified_at, verified_by, created_by, created_at, thread_id;

-- name: updateTask
UPDATE tasks SET status = $2, assignee = $3, claimed_at = $4, done_at = $5, note = $6, verified_at = $7, verified_by = $8, thread_id = $9
WHERE id = $1;

-- name: lockReviews
-- Serialises the review rounds of one task ($1) across processes, until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('swarm.reviews:' || $1::text, 0));

-- name: maxRound
SELECT coalesce(max(round), 0) AS n FROM reviews WHERE task_id = $1;

-- name: insertReviews
-- $1 task, $2 round, $3 reviewers, $4 requested by, $5 time.
INSERT INTO reviews (task_id, round, reviewer, requested_by, requested_at)
SELECT $1, $2, r, $4, $5 FROM unnest($3::text[]) AS r
ON CONFLICT DO NOTHING;

-- name: decideReview
-- $1 task, $2 round, $3 reviewer, $4 verdict, $5 comment, $6 time.
UPDATE reviews SET verdict = $4, comment = $5, decided_at = $6 WHERE task_id = $1 AND round = $2 AND reviewer = $3;

-- name: reviewsOf
SELECT task_id, round, reviewer, requested_by, requested_at, verdict, comment, decided_at
FROM reviews WHERE task_id = $1 ORDER BY round, reviewer;

-- name: leaderboard
-- $1 since (null: all time).
SELECT agent, sum(points)::bigint AS points, sum(verified)::bigint AS tasks_verified, sum(done)::bigint AS tasks_done,
       sum(reviews)::bigint AS reviews_given
FROM (
  SELECT assignee AS agent, points, 1 AS verified, 0 AS done, 0 AS reviews FROM tasks
    WHERE status = 'verified' AND assignee IS NOT NULL AND ($1::bigint IS NULL OR verified_at >= $1)
  UNION ALL
  SELECT assignee, 0, 0, 1, 0 FROM tasks
    WHERE status IN ('done', 'verified') AND assignee IS NOT NULL AND ($1::bigint IS NULL OR done_at >= $1)
  UNION ALL
  SELECT reviewer, 0, 0, 0, 1 FROM reviews WHERE verdict IS NOT NULL AND ($1::bigint IS NULL OR decided_at >= $1)
) AS x
GROUP BY agent ORDER BY points DESC, tasks_verified DESC, agent;
