-- No statement looks refresh tokens up by grant (a revoked grant is checked through the
-- grant itself), so their index on grant_id only cost a write on every redemption.
-- (SQLite's migration of this version also clusters the account's sessions by account.)
DROP INDEX refresh_tokens_grant;
