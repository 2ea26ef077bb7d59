-- Pools that look after themselves: a low-seat alert and an automatic top-up,
-- each with an armed flag that the transaction crossing its threshold clears
-- with a conditional update (so it fires once), and in-app notifications.
ALTER TABLE pools ADD COLUMN alert_below_seats INTEGER;
ALTER TABLE pools ADD COLUMN alert_below_percent INTEGER;
ALTER TABLE pools ADD COLUMN alert_armed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE pools ADD COLUMN topup_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pools ADD COLUMN topup_below INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_add INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_max_per_month INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_ask_first BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pools ADD COLUMN topup_plan TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE pools ADD COLUMN topup_armed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE pools ADD COLUMN topup_month INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN topup_pending_since TEXT;

-- What happened that an organisation's admins should know, newest first.
CREATE TABLE notifications (
    id               BLOB PRIMARY KEY NOT NULL,
    organisation_id  BLOB NOT NULL REFERENCES organisations (id),
    pool_id          BLOB REFERENCES pools (id),
    kind             TEXT NOT NULL,
    message          TEXT NOT NULL,
    data             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    read_at          TEXT
);
CREATE INDEX notifications_organisation ON notifications (organisation_id, created_at);
