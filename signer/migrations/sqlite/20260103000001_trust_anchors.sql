-- Roots that validation trusts besides vhod's own CA (`vhod signer trust add`).
-- fingerprint: SHA-256 of the DER certificate, lower-case hex.
CREATE TABLE signer_trust_anchors (
    fingerprint TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    cert_der BLOB NOT NULL,
    not_after BIGINT NOT NULL,
    added_at BIGINT NOT NULL
);
