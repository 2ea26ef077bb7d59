-- Foundation: organisations, users and sign-in, API keys, products, licences,
-- the audit log, idempotency keys and signing keys.
-- UUIDs are 16-byte BLOBs, instants RFC 3339 TEXT in UTC (sqlx's encodings).

CREATE TABLE organisations (
    id                  BLOB PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    account_manager_id  BLOB,
    created_at          TEXT NOT NULL
);
CREATE INDEX organisations_account_manager ON organisations (account_manager_id);

CREATE TABLE users (
    id               BLOB PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL,
    organisation_id  BLOB REFERENCES organisations (id),
    password_hash    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    CHECK ((role IN ('vendor_admin', 'account_manager')) = (organisation_id IS NULL))
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE auth_sessions (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Every refresh token ever issued; a used one presented again revokes its session.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  BLOB NOT NULL REFERENCES auth_sessions (id),
    issued_at   TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id               BLOB PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    organisation_id  BLOB REFERENCES organisations (id),
    scopes           TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    key_hash         TEXT NOT NULL UNIQUE,
    created_by       BLOB,
    created_at       TEXT NOT NULL,
    last_used_at     TEXT,
    revoked_at       TEXT
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

CREATE TABLE products (
    id                     BLOB PRIMARY KEY NOT NULL,
    code                   TEXT NOT NULL UNIQUE,
    name                   TEXT NOT NULL,
    seat_kind              TEXT NOT NULL,
    currency               TEXT NOT NULL,
    prices                 TEXT NOT NULL,
    default_lease_seconds  INTEGER NOT NULL,
    created_at             TEXT NOT NULL
);

CREATE TABLE licences (
    id                     BLOB PRIMARY KEY NOT NULL,
    product_id             BLOB NOT NULL REFERENCES products (id),
    plan                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    note                   TEXT NOT NULL,
    quantity               INTEGER NOT NULL CHECK (quantity > 0),
    unit_price             INTEGER NOT NULL,
    currency               TEXT NOT NULL,
    owner_organisation_id  BLOB REFERENCES organisations (id),
    owner_user_id          BLOB REFERENCES users (id),
    coupon_code            TEXT NOT NULL UNIQUE,
    status                 TEXT NOT NULL,
    billing_status         TEXT NOT NULL,
    source                 TEXT NOT NULL,
    created_by             BLOB,
    created_at             TEXT NOT NULL,
    activated_at           TEXT,
    ends_at                TEXT,
    redeemed_at            TEXT,
    version                INTEGER NOT NULL
);
CREATE INDEX licences_owner ON licences (owner_organisation_id, created_at);
CREATE INDEX licences_created ON licences (created_at);
CREATE INDEX licences_ends ON licences (ends_at);

CREATE TABLE audit_log (
    id               BLOB PRIMARY KEY NOT NULL,
    at               TEXT NOT NULL,
    organisation_id  BLOB,
    product_id       BLOB,
    actor_kind       TEXT NOT NULL,
    actor_id         BLOB,
    action           TEXT NOT NULL,
    object_kind      TEXT NOT NULL,
    object_id        BLOB NOT NULL,
    before           TEXT,
    after            TEXT,
    request_id       TEXT
);
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, at);
CREATE INDEX audit_log_object ON audit_log (object_id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    pkcs8       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
