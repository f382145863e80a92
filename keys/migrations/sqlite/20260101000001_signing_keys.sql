-- Signing keys: the private key is PKCS#8 encrypted under the KEK (AES-256-GCM, AAD = kid).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_key BLOB NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activates_at BIGINT NOT NULL,
    retired_at BIGINT,
    expires_at BIGINT
);
