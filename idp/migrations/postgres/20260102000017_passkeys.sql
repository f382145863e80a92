-- Passkeys (WebAuthn credentials) of citizen accounts. `passkey` is webauthn-rs's `Passkey`
-- in its serde JSON form: the credential id, the public key and the sign counter (no
-- secret). The credential id is also kept on its own, unique across all accounts, so a
-- discoverable sign-in finds its account and one authenticator key cannot be registered
-- to two accounts. `user_handle` is the random WebAuthn user id the authenticator returns.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    user_handle TEXT NOT NULL,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_account ON passkeys (account_id);
