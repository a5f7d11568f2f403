-- The hand-out query walks an agent's open deliveries in inbox order and skips those leased or
-- delayed. With lease_until and visible_at in the index, skipping costs no table lookup (measured
-- at ~95 µs per empty call with 75 leased rows before; docs/benchmarks.md).
DROP INDEX deliveries_open;
CREATE INDEX deliveries_open ON deliveries(recipient, priority DESC, message_seq, lease_until, visible_at) WHERE state IN ('pending', 'delivered', 'read');
