-- An authenticator app's shared secret (RFC 6238), AES-256-GCM-encrypted under a key derived
-- from the key-encryption key; NULL when the account has no TOTP factor.
ALTER TABLE accounts ADD COLUMN totp_secret BYTEA;
