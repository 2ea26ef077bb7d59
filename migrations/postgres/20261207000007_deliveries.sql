-- Who is told, and how: e-mail recipients with per-event toggles (optionally
-- about one pool), webhook endpoints with event filters, and the outbox of
-- deliveries to both, written in the transaction of the notification they
-- carry and delivered by a worker that claims rows (see README: Notifications).
CREATE TABLE notification_recipients (
    id               UUID PRIMARY KEY NOT NULL,
    organisation_id  UUID NOT NULL REFERENCES organisations (id),
    position         BIGINT NOT NULL,
    email            TEXT NOT NULL,
    events           JSONB NOT NULL,
    pool_id          UUID REFERENCES pools (id)
);
CREATE INDEX notification_recipients_organisation ON notification_recipients (organisation_id, position);

CREATE TABLE webhooks (
    id                    UUID PRIMARY KEY NOT NULL,
    organisation_id       UUID NOT NULL REFERENCES organisations (id),
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    events                JSONB NOT NULL,
    enabled               BOOLEAN NOT NULL,
    consecutive_failures  BIGINT NOT NULL DEFAULT 0,
    created_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_organisation ON webhooks (organisation_id);

CREATE TABLE deliveries (
    id               UUID PRIMARY KEY NOT NULL,
    organisation_id  UUID NOT NULL REFERENCES organisations (id),
    notification_id  UUID NOT NULL REFERENCES notifications (id),
    channel          TEXT NOT NULL,
    recipient        TEXT,
    webhook_id       UUID REFERENCES webhooks (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    claim            UUID,
    claimed_until    TIMESTAMPTZ,
    last_error       TEXT,
    response_status  INTEGER,
    delivered_at     TIMESTAMPTZ,
    replay_of        UUID REFERENCES deliveries (id) ON DELETE CASCADE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);
CREATE INDEX deliveries_organisation ON deliveries (organisation_id, created_at);
