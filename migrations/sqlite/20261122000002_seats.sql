-- Seat engine I: pools, devices, seats, the request queue and usage events.

-- One pool per (organisation, product). `held` is changed only by conditional
-- updates (`held < capacity`) in the transaction that inserts or deletes a seat.
CREATE TABLE pools (
    id               BLOB PRIMARY KEY NOT NULL,
    organisation_id  BLOB NOT NULL REFERENCES organisations (id),
    product_id       BLOB NOT NULL REFERENCES products (id),
    capacity         INTEGER NOT NULL CHECK (capacity >= 0),
    held             INTEGER NOT NULL CHECK (held >= 0),
    queue_policy     TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (organisation_id, product_id)
);

-- A physical device of an organisation, known by its fingerprint.
CREATE TABLE devices (
    id               BLOB PRIMARY KEY NOT NULL,
    organisation_id  BLOB NOT NULL REFERENCES organisations (id),
    fingerprint      TEXT NOT NULL,
    name             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    blocked_at       TEXT,
    UNIQUE (organisation_id, fingerprint)
);

-- Live seats only; their history is in usage_events.
CREATE TABLE seats (
    id          BLOB PRIMARY KEY NOT NULL,
    pool_id     BLOB NOT NULL REFERENCES pools (id),
    licence_id  BLOB NOT NULL REFERENCES licences (id),
    device_id   BLOB NOT NULL REFERENCES devices (id),
    granted_at  TEXT NOT NULL,
    UNIQUE (pool_id, device_id)
);
CREATE INDEX seats_licence ON seats (licence_id);
CREATE INDEX seats_device ON seats (device_id);

CREATE TABLE seat_requests (
    id            BLOB PRIMARY KEY NOT NULL,
    pool_id       BLOB NOT NULL REFERENCES pools (id),
    device_id     BLOB NOT NULL REFERENCES devices (id),
    state         TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    resolved_at   TEXT,
    seat_id       BLOB
);
CREATE INDEX seat_requests_queue ON seat_requests (pool_id, state, requested_at);
-- A device waits at most once per pool.
CREATE UNIQUE INDEX seat_requests_one_waiting ON seat_requests (pool_id, device_id) WHERE state = 'waiting';

-- What reports integrate over: every change of held or capacity, and every denial.
CREATE TABLE usage_events (
    id               BLOB PRIMARY KEY NOT NULL,
    pool_id          BLOB NOT NULL REFERENCES pools (id),
    organisation_id  BLOB NOT NULL,
    at               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    held             INTEGER NOT NULL,
    capacity         INTEGER NOT NULL,
    subject_id       BLOB,
    reason           TEXT
);
CREATE INDEX usage_events_pool ON usage_events (pool_id, at);
