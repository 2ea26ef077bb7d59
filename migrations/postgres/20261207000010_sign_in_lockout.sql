-- Failed sign-ins per e-mail address tried (by hash, known address or not, so
-- a lock says nothing about which addresses exist): enough failures within
-- the window lock sign-in for that address for a while.
CREATE TABLE sign_in_failures (
    key_hash      TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    locked_until  TIMESTAMPTZ
);
