-- Seat engine II: concurrent (floating) seats as leases that lapse unless renewed.

-- Lease settings of a pool (used by concurrent products).
ALTER TABLE pools ADD COLUMN lease_seconds BIGINT NOT NULL DEFAULT 900;
ALTER TABLE pools ADD COLUMN grace_seconds BIGINT NOT NULL DEFAULT 120;
ALTER TABLE pools ADD COLUMN idle_seconds BIGINT;
ALTER TABLE pools ADD COLUMN linger_seconds BIGINT NOT NULL DEFAULT 0;

-- A member's seat from one client. It counts in pools.held until the reaper or a
-- release deletes it; its history is in usage_events.
CREATE TABLE leases (
    id                 UUID PRIMARY KEY NOT NULL,
    pool_id            UUID NOT NULL REFERENCES pools (id),
    licence_id         UUID NOT NULL REFERENCES licences (id),
    user_id            UUID NOT NULL REFERENCES users (id),
    client_id          TEXT NOT NULL,
    granted_at         TIMESTAMPTZ NOT NULL,
    last_heartbeat_at  TIMESTAMPTZ NOT NULL,
    last_activity_at   TIMESTAMPTZ NOT NULL,
    -- No heartbeat by then (lease + grace after the last one): the reaper reclaims it.
    expires_at         TIMESTAMPTZ NOT NULL,
    -- No activity by then (with an idle timeout): the reaper reclaims it.
    idle_expires_at    TIMESTAMPTZ,
    -- Logged out with a linger: held until linger_until, revived by the same client.
    released_at        TIMESTAMPTZ,
    linger_until       TIMESTAMPTZ,
    UNIQUE (pool_id, user_id, client_id)
);
CREATE INDEX leases_expiry ON leases (expires_at);
CREATE INDEX leases_idle ON leases (idle_expires_at);
CREATE INDEX leases_linger ON leases (linger_until);
CREATE INDEX leases_licence ON leases (licence_id);

CREATE TABLE lease_requests (
    id            UUID PRIMARY KEY NOT NULL,
    pool_id       UUID NOT NULL REFERENCES pools (id),
    user_id       UUID NOT NULL REFERENCES users (id),
    client_id     TEXT NOT NULL,
    state         TEXT NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ,
    lease_id      UUID
);
CREATE INDEX lease_requests_queue ON lease_requests (pool_id, state, requested_at);
CREATE UNIQUE INDEX lease_requests_one_waiting ON lease_requests (pool_id, user_id, client_id) WHERE state = 'waiting';
