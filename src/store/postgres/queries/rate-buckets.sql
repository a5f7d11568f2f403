-- Shared rate limits: one token bucket per key (rate-buckets.ts).

-- name: takeTokens
-- $1 key, $2 rate per second, $3 burst, $4 tokens wanted, $5 now.
SELECT granted, remaining FROM swarm_take_tokens($1, $2, $3, $4, $5);
