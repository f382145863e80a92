-- The JWS alg a client registered for its ID Tokens (OpenID Connect Dynamic Client
-- Registration §2 id_token_signed_response_alg); NULL: the provider's primary key's alg.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT;
