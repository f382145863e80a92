-- Consecutive failed sign-ins of the account, and when it was locked for reaching the limit
-- (NIST SP 800-63B §5.2.2: at most 100). A successful sign-in resets the count.
ALTER TABLE accounts ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_at BIGINT;
