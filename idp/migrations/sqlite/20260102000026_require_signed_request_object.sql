-- RFC 9101 §10.5 `require_signed_request_object`: a client whose every authorization request
-- must come as a Request Object signed with one of its registered keys.
ALTER TABLE clients ADD COLUMN require_signed_request_object BIGINT NOT NULL DEFAULT 0;
