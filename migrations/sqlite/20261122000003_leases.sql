-- Seat engine II: concurrent (floating) seats as leases that lapse unless renewed.

-- Lease settings of a pool (used by concurrent products).
ALTER TABLE pools ADD COLUMN lease_seconds INTEGER NOT NULL DEFAULT 900;
ALTER TABLE pools ADD COLUMN grace_seconds INTEGER NOT NULL DEFAULT 120;
ALTER TABLE pools ADD COLUMN idle_seconds INTEGER;
ALTER TABLE pools ADD COLUMN linger_seconds INTEGER NOT NULL DEFAULT 0;

-- A member's seat from one client. It counts in pools.held until the reaper or a
-- release deletes it; its history is in usage_events.
CREATE TABLE leases (
    id                 BLOB PRIMARY KEY NOT NULL,
    pool_id            BLOB NOT NULL REFERENCES pools (id),
    licence_id         BLOB NOT NULL REFERENCES licences (id),
    user_id            BLOB NOT NULL REFERENCES users (id),
    client_id          TEXT NOT NULL,
    granted_at         TEXT NOT NULL,
    last_heartbeat_at  TEXT NOT NULL,
    last_activity_at   TEXT NOT NULL,
    -- No heartbeat by then (lease + grace after the last one): the reaper reclaims it.
    expires_at         TEXT NOT NULL,
    -- No activity by then (with an idle timeout): the reaper reclaims it.
    idle_expires_at    TEXT,
    -- Logged out with a linger: held until linger_until, revived by the same client.
    released_at        TEXT,
    linger_until       TEXT,
    UNIQUE (pool_id, user_id, client_id)
);
CREATE INDEX leases_expiry ON leases (expires_at);
CREATE INDEX leases_idle ON leases (idle_expires_at);
CREATE INDEX leases_linger ON leases (linger_until);
CREATE INDEX leases_licence ON leases (licence_id);

CREATE TABLE lease_requests (
    id            BLOB PRIMARY KEY NOT NULL,
    pool_id       BLOB NOT NULL REFERENCES pools (id),
    user_id       BLOB NOT NULL REFERENCES users (id),
    client_id     TEXT NOT NULL,
    state         TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    resolved_at   TEXT,
    lease_id      BLOB
);
CREATE INDEX lease_requests_queue ON lease_requests (pool_id, state, requested_at);
CREATE UNIQUE INDEX lease_requests_one_waiting ON lease_requests (pool_id, user_id, client_id) WHERE state = 'waiting';
