-- Notices to citizens whose delivery failed for a reason that may pass (a mail server or SMS
-- gateway down): tried again later, by whichever node claims them first. The text is not
-- kept, only what it is rendered from (kind and language); never a one-time code.
CREATE TABLE pending_notices (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_notices_next_at ON pending_notices (next_at);
