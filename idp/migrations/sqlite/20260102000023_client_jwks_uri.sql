-- RFC 7591 §2 `jwks_uri`: a private_key_jwt client that publishes its keys at a URL, fetched
-- and cached by each node, instead of a key set registered with it.
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
