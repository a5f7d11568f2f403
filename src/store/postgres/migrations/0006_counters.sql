-- No scans on hot or periodic paths (issue 11).
--
-- Queue numbers from counters: every transaction that opens or closes deliveries appends one row
-- per agent with what it changed (open, acked, expired, dead, redeliveries), in the same statement
-- or transaction as the change. Appending never waits on another writer (no hot counter row); the
-- sweeper folds the rows into one per agent now and then. Queue stats sum this small table instead
-- of grouping every delivery ever made; leases in flight and delayed deliveries are counted from
-- their own indexes, which hold only what is leased or delayed now.
CREATE TABLE queue_counts (
  recipient     TEXT COLLATE "C" NOT NULL,
  open          BIGINT NOT NULL DEFAULT 0,
  acked         BIGINT NOT NULL DEFAULT 0,
  expired       BIGINT NOT NULL DEFAULT 0,
  dead          BIGINT NOT NULL DEFAULT 0,
  redeliveries  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO queue_counts (recipient, open, acked, expired, dead, redeliveries)
SELECT recipient,
  count(*) FILTER (WHERE state IN ('pending', 'delivered', 'read')),
  count(*) FILTER (WHERE state = 'acked'),
  count(*) FILTER (WHERE state = 'expired'),
  count(*) FILTER (WHERE state = 'dead'),
  coalesce(sum(greatest(attempts - 1, 0)), 0)
FROM deliveries GROUP BY recipient;

-- Delayed (nacked with a delay) deliveries, for queue stats and wake-ups.
CREATE INDEX deliveries_visible ON deliveries(visible_at) WHERE visible_at IS NOT NULL;
-- Closed deliveries hold no lease (acks, expiry and dead letters clear it): the leases index keeps
-- only open ones.
UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_until IS NOT NULL AND state NOT IN ('pending', 'delivered', 'read');

-- Where the sweeper got to: messages expiring after this time are yet to be swept (expiry is then
-- read by index over the last moments only, not over every message that ever expired).
CREATE TABLE sweep_marks (
  name  TEXT COLLATE "C" PRIMARY KEY,
  at    BIGINT NOT NULL
);
INSERT INTO sweep_marks (name, at) VALUES ('expiry', 0);

-- Claim expiry starts from the silent agents (a handful), then their claims by the assignee index.
CREATE INDEX agents_seen ON agents(last_seen_at);

-- Per-agent send rates for the whole hub (several api processes): a token bucket per key, taken in
-- chunks (postgres/rate-buckets.ts). A process takes a few tokens at once and spends them locally,
-- so the bucket row is written a few times per second per agent, never once per send.
CREATE TABLE rate_buckets (
  key     TEXT COLLATE "C" PRIMARY KEY,
  tokens  DOUBLE PRECISION NOT NULL,
  at      BIGINT NOT NULL
);

-- Takes up to `want` tokens from a bucket that refills at `rate` per second up to `burst`: how many
-- were granted, and what is left (for the Retry-After of a refusal). One row lock per call.
DO $migration$
DECLARE
  here text := current_schema();
BEGIN
  EXECUTE format(
    $f$CREATE FUNCTION %1$I.swarm_take_tokens(k text, rate float8, burst float8, want int, now bigint, OUT granted int, OUT remaining float8)
       LANGUAGE plpgsql AS $body$
       DECLARE t float8; a bigint;
       BEGIN
         INSERT INTO %1$I.rate_buckets (key, tokens, at) VALUES (k, burst, now) ON CONFLICT (key) DO NOTHING;
         SELECT b.tokens, b.at INTO t, a FROM %1$I.rate_buckets b WHERE b.key = k FOR UPDATE;
         t := least(burst, t + greatest(0, now - a) * rate / 1000.0);
         granted := least(want, floor(t))::int;
         remaining := t - granted;
         UPDATE %1$I.rate_buckets SET tokens = remaining, at = greatest(a, now) WHERE key = k;
       END $body$$f$,
    here);
END
$migration$;
