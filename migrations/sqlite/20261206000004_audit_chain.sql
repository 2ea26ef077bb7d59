-- The audit log's hash chain: one chain per organisation (the nil id for
-- vendor-wide entries). Writers append entries unsealed (seq NULL); the sealer
-- gives each its place, the previous entry's hash and its own, and moves the
-- chain's head, which is kept apart so that deleting the newest entries shows.
ALTER TABLE audit_log ADD COLUMN chain_id BLOB NOT NULL DEFAULT x'00000000000000000000000000000000';
UPDATE audit_log SET chain_id = organisation_id WHERE organisation_id IS NOT NULL;
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain_id, seq);
CREATE INDEX audit_log_unsealed ON audit_log (chain_id, at, id) WHERE seq IS NULL;

CREATE TABLE audit_chains (
    chain_id   BLOB PRIMARY KEY NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    sealed_at  TEXT NOT NULL
);
