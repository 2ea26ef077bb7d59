-- Reports: each pool's usage rolled up per UTC day (a day's report as JSON:
-- seat-milliseconds held and offered, peak, denials, queue waits), and the
-- cursor up to which it is rolled with the integration state carried over
-- (held, capacity, who waits since when, recent denials), so that rolling up
-- resumes exactly. Days at or after the cursor are computed from raw events.
CREATE TABLE usage_rollups (
    pool_id  UUID NOT NULL REFERENCES pools (id),
    day      TIMESTAMPTZ NOT NULL,
    report   JSONB NOT NULL,
    PRIMARY KEY (pool_id, day)
);

CREATE TABLE usage_rollup_cursors (
    pool_id       UUID PRIMARY KEY NOT NULL REFERENCES pools (id),
    rolled_until  TIMESTAMPTZ NOT NULL,
    state         JSONB NOT NULL
);

-- Invoices: one per licence and billing period (a term's end, or the whole
-- life of a perpetual licence), so a retry can never bill a period twice.
-- An invoice is an accounting record: it keeps what it billed (licence and
-- product names, plan, owner's address) and outlives the licence.
CREATE TABLE invoices (
    id                UUID PRIMARY KEY NOT NULL,
    number            TEXT NOT NULL UNIQUE,
    licence_id        UUID NOT NULL,
    licence_name      TEXT NOT NULL,
    product_name      TEXT NOT NULL,
    plan              TEXT NOT NULL,
    organisation_id   UUID NOT NULL REFERENCES organisations (id),
    owner_user_id     UUID NOT NULL REFERENCES users (id),
    owner_email       TEXT NOT NULL,
    period            TEXT NOT NULL,
    period_start      TIMESTAMPTZ,
    period_end        TIMESTAMPTZ,
    quantity          BIGINT NOT NULL,
    unit_price        BIGINT NOT NULL,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_by        UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ,
    UNIQUE (licence_id, period)
);
CREATE INDEX invoices_organisation ON invoices (organisation_id, created_at);
CREATE INDEX invoices_created ON invoices (created_at);

-- The per-licence results of one `POST /v1/invoices`, replayed for a retried
-- Idempotency-Key.
CREATE TABLE invoice_batches (
    id          UUID PRIMARY KEY NOT NULL,
    results     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX licences_activated ON licences (activated_at);
