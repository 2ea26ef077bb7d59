-- The instant of each pool's latest usage event. Events are stamped under the
-- pool row's lock with max(now, this + 1 µs), and rolling up raises it to the
-- cursor: events are in commit order and never land inside rolled-up days.
ALTER TABLE pools ADD COLUMN last_usage_at TEXT;
UPDATE pools SET last_usage_at = (SELECT MAX(at) FROM usage_events e WHERE e.pool_id = pools.id);
UPDATE pools SET last_usage_at = (SELECT c.rolled_until FROM usage_rollup_cursors c WHERE c.pool_id = pools.id)
 WHERE EXISTS (SELECT 1 FROM usage_rollup_cursors c WHERE c.pool_id = pools.id
                  AND (pools.last_usage_at IS NULL OR c.rolled_until > pools.last_usage_at));
