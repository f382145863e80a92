-- Webhook delivery. Requests past expires_at are now also stored as status 'expired' (by the
-- sender's sweep; reads still derive it, so a late sweep changes nothing a client sees).
-- Units in signer_webhooks: event_at, delivered_at and failed_at are unix seconds of the
-- service clock; next_at and claimed_until are wall-clock unix milliseconds, because they pace
-- retries and coordinate nodes (0 = due at once). failed_at: when delivery was given up.
ALTER TABLE signer_webhooks ADD COLUMN failed_at BIGINT;
