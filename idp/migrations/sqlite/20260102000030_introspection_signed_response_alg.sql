-- RFC 9701 §6 `introspection_signed_response_alg`: the algorithm of the signed introspection
-- answers this client (a resource server) gets; NULL: RS256, the RFC's default.
ALTER TABLE clients ADD COLUMN introspection_signed_response_alg TEXT;
