-- RFC 9449 §5.2 `dpop_bound_access_tokens`: a client whose every token request must carry a
-- DPoP proof, so none of its tokens is a plain Bearer token.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BIGINT NOT NULL DEFAULT 0;
