-- Foundation: organisations, users and sign-in, API keys, products, licences,
-- the audit log, idempotency keys and signing keys.
-- The same tables and columns as the SQLite schema (a test compares them).

CREATE TABLE organisations (
    id                  UUID PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    account_manager_id  UUID,
    created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX organisations_account_manager ON organisations (account_manager_id);

CREATE TABLE users (
    id               UUID PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL,
    organisation_id  UUID REFERENCES organisations (id),
    password_hash    TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK ((role IN ('vendor_admin', 'account_manager')) = (organisation_id IS NULL))
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE auth_sessions (
    id          UUID PRIMARY KEY NOT NULL,
    user_id     UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

-- Every refresh token ever issued; a used one presented again revokes its session.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  UUID NOT NULL REFERENCES auth_sessions (id),
    issued_at   TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id               UUID PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    organisation_id  UUID REFERENCES organisations (id),
    scopes           JSONB NOT NULL,
    prefix           TEXT NOT NULL,
    key_hash         TEXT NOT NULL UNIQUE,
    created_by       UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    last_used_at     TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

CREATE TABLE products (
    id                     UUID PRIMARY KEY NOT NULL,
    code                   TEXT NOT NULL UNIQUE,
    name                   TEXT NOT NULL,
    seat_kind              TEXT NOT NULL,
    currency               TEXT NOT NULL,
    prices                 JSONB NOT NULL,
    default_lease_seconds  BIGINT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL
);

CREATE TABLE licences (
    id                     UUID PRIMARY KEY NOT NULL,
    product_id             UUID NOT NULL REFERENCES products (id),
    plan                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    note                   TEXT NOT NULL,
    quantity               BIGINT NOT NULL CHECK (quantity > 0),
    unit_price             BIGINT NOT NULL,
    currency               TEXT NOT NULL,
    owner_organisation_id  UUID REFERENCES organisations (id),
    owner_user_id          UUID REFERENCES users (id),
    coupon_code            TEXT NOT NULL UNIQUE,
    status                 TEXT NOT NULL,
    billing_status         TEXT NOT NULL,
    source                 TEXT NOT NULL,
    created_by             UUID,
    created_at             TIMESTAMPTZ NOT NULL,
    activated_at           TIMESTAMPTZ,
    ends_at                TIMESTAMPTZ,
    redeemed_at            TIMESTAMPTZ,
    version                BIGINT NOT NULL
);
CREATE INDEX licences_owner ON licences (owner_organisation_id, created_at);
CREATE INDEX licences_created ON licences (created_at);
CREATE INDEX licences_ends ON licences (ends_at);

CREATE TABLE audit_log (
    id               UUID PRIMARY KEY NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    organisation_id  UUID,
    product_id       UUID,
    actor_kind       TEXT NOT NULL,
    actor_id         UUID,
    action           TEXT NOT NULL,
    object_kind      TEXT NOT NULL,
    object_id        UUID NOT NULL,
    before           JSONB,
    after            JSONB,
    request_id       TEXT
);
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, at);
CREATE INDEX audit_log_object ON audit_log (object_id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   UUID NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    pkcs8       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
