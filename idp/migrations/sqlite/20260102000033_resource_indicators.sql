-- Resource Indicators (RFC 8707): the resource servers a client may ask access tokens for
-- (absolute URIs, space-separated; empty: none but this provider), and the ones a grant was
-- given, which its access tokens are audience-restricted to.
ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT '';
