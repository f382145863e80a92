-- Signing requests made by relying parties through /api/signer/v1/requests, and their documents.
-- status: pending | signed | declined (expiry is read from expires_at, so no sweeper is needed
-- for a request to count as expired). set_digest: SHA-256 over the sorted raw SHA-256 hashes of
-- the documents, lower-case hex: what the citizen's second factor confirms.
CREATE TABLE signer_requests (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    format TEXT NOT NULL,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    webhook_url TEXT,
    set_digest TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    cert_serial TEXT,
    cert_der BLOB,
    failed_attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX signer_requests_account ON signer_requests (account_id, created_at);
CREATE INDEX signer_requests_client ON signer_requests (client_id, created_at);

-- n: position in the request, from 1. signature: the CMS (.p7s / .p7m) or the signed PDF.
CREATE TABLE signer_documents (
    request_id TEXT NOT NULL REFERENCES signer_requests (id) ON DELETE CASCADE,
    n BIGINT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    signature BLOB,
    PRIMARY KEY (request_id, n)
);
