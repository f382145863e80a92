-- Every successful sign-in, for the citizen's sign-in history and new-device notices. The
-- device is a keyed hash of a long-lived browser cookie, never the cookie itself.
CREATE TABLE login_events (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    device TEXT NOT NULL,
    amr TEXT NOT NULL
);
CREATE INDEX login_events_account ON login_events (account_id, at);
