-- JARM `authorization_signed_response_alg`: the algorithm of the signed authorization
-- responses this client gets when it asks for a JWT response mode; NULL: RS256, JARM's
-- default.
ALTER TABLE clients ADD COLUMN authorization_signed_response_alg TEXT;
