-- Pools that look after themselves: a low-seat alert and an automatic top-up,
-- each with an armed flag that the transaction crossing its threshold clears
-- with a conditional update (so it fires once), and in-app notifications.
ALTER TABLE pools ADD COLUMN alert_below_seats BIGINT;
ALTER TABLE pools ADD COLUMN alert_below_percent BIGINT;
ALTER TABLE pools ADD COLUMN alert_armed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE pools ADD COLUMN topup_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pools ADD COLUMN topup_below BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_add BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_max_per_month BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_ask_first BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pools ADD COLUMN topup_plan TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE pools ADD COLUMN topup_armed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE pools ADD COLUMN topup_month INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_pending_since TIMESTAMPTZ;

-- What happened that an organisation's admins should know, newest first.
CREATE TABLE notifications (
    id               UUID PRIMARY KEY NOT NULL,
    organisation_id  UUID NOT NULL REFERENCES organisations (id),
    pool_id          UUID REFERENCES pools (id),
    kind             TEXT NOT NULL,
    message          TEXT NOT NULL,
    data             JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    read_at          TIMESTAMPTZ
);
CREATE INDEX notifications_organisation ON notifications (organisation_id, created_at);
