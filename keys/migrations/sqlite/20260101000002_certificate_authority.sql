-- The signer's certificate authority: root, issuing CA, TSA and OCSP responder keys and
-- certificates. Private keys are PKCS#8 encrypted under the KEK (AES-256-GCM, AAD = "ca:" || role).
-- One row per role; nodes starting at once race on the primary key and the loser loads.
CREATE TABLE ca_authorities (
    role TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,
    cert_der BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

-- Citizen certificates issued by the issuing CA. The key pair is made server-side and kept
-- encrypted under the KEK (AAD = "citizen:" || serial). serial is lower-case hex.
CREATE TABLE ca_citizen_certs (
    serial TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    key_alg TEXT NOT NULL,
    private_key BLOB NOT NULL,
    cert_der BLOB NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    status TEXT NOT NULL,
    revoked_at BIGINT,
    revocation_reason INTEGER,
    created_at BIGINT NOT NULL
);
CREATE INDEX ca_citizen_certs_account ON ca_citizen_certs (account_id);
CREATE INDEX ca_citizen_certs_status ON ca_citizen_certs (status);

-- Monotonic counters shared by every node (the CRL number, RFC 5280 §5.2.3).
CREATE TABLE ca_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
