-- RFC 9126 §6: a client whose sign-ins may start only from a pushed authorization request.
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests BIGINT NOT NULL DEFAULT 0;
