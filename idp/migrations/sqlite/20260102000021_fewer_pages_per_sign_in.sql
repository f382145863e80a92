-- Two more pages that every sign-in or code redemption wrote without need.
--
-- The account's sessions are only ever read or removed with the account's id, so they are
-- clustered by (account_id, sid) and need no second index: a sign-in writes one page for
-- its session instead of two.
--
-- No statement looks refresh tokens up by grant (a revoked grant is checked through the
-- grant itself), so their index on grant_id only cost a page on every redemption.

CREATE TABLE account_sessions_new (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    PRIMARY KEY (account_id, sid)
) WITHOUT ROWID;
INSERT INTO account_sessions_new (account_id, sid, cache_key, started_at, expires_at, ip, user_agent)
    SELECT account_id, sid, cache_key, started_at, expires_at, ip, user_agent FROM account_sessions;
DROP TABLE account_sessions;
ALTER TABLE account_sessions_new RENAME TO account_sessions;

DROP INDEX refresh_tokens_grant;
