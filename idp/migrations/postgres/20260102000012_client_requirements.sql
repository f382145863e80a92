-- What a client demands of every sign-in: a second factor, and a minimum assurance level.
ALTER TABLE clients ADD COLUMN require_mfa BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN min_level TEXT;
