-- RFC 9449 §5: the DPoP key a public client's refresh tokens are bound to (its JWK SHA-256
-- thumbprint); NULL for grants whose refresh tokens are not bound.
ALTER TABLE grants ADD COLUMN dpop_jkt TEXT;
