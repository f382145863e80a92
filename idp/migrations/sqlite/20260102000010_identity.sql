-- The identity behind the "standard" assurance level, and every change of an account's level
-- with its evidence. SNILS, passport and INN are kept only sealed (AES-256-GCM under a key
-- derived from the key-encryption key) beside a keyed blind index (HMAC-SHA-256) that finds
-- them; one SNILS belongs to at most one account.
CREATE TABLE account_identity (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    middle_name TEXT,
    birth_date TEXT NOT NULL,
    snils_enc BLOB NOT NULL,
    snils_index TEXT NOT NULL UNIQUE,
    passport_enc BLOB NOT NULL,
    passport_index TEXT NOT NULL,
    inn_enc BLOB,
    inn_index TEXT,
    updated_at BIGINT NOT NULL
);

-- evidence: JSON saying who confirmed the level, how and when.
CREATE TABLE account_levels (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    evidence TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX account_levels_account ON account_levels (account_id, at);
