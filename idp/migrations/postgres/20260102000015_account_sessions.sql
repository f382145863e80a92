-- The citizen's browser sessions, for the list in the personal account and signing one
-- out: the session itself lives in the shared cache under cache_key (a hash of the cookie).
CREATE TABLE account_sessions (
    sid TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    cache_key TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX account_sessions_account ON account_sessions (account_id, started_at);
