-- Back-channel logouts on their way to clients: written before the first attempt and removed
-- when the client answers, so a logout is not lost when the node stops or the client is down
-- for longer than the first attempts. A fresh Logout Token is signed for each later attempt
-- from what is kept here (never the token itself).
CREATE TABLE pending_logouts (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_logouts_next_at ON pending_logouts (next_at);
