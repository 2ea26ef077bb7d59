-- Monthly and yearly licences that renew by themselves, and the end date an
-- "expiring soon" notice was sent for (once per licence and term: a renewal
-- or a new end date opens a new window).
ALTER TABLE licences ADD COLUMN auto_renew BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE licences ADD COLUMN expiry_notice_for TEXT;
