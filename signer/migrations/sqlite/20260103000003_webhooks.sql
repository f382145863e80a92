-- Webhook deliveries: one row per event (signed, declined, expired) of a request with a
-- webhook_url. Nodes claim due rows with an atomic UPDATE (claimed_until in the future means
-- another node is sending it), so two nodes never send one event at the same time.
-- event_id is unique and sent to the receiver so it can drop duplicates.
CREATE TABLE signer_webhooks (
    event_id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES signer_requests (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    event_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX signer_webhooks_due ON signer_webhooks (delivered_at, next_at);
-- At most one event of each kind per request (an expiry is recorded once).
CREATE UNIQUE INDEX signer_webhooks_once ON signer_webhooks (request_id, status);
