-- Relying-party clients, citizen accounts, consents, grants and refresh tokens.
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    auth_method TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scope TEXT NOT NULL,
    jwks TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email TEXT,
    email_verified BIGINT NOT NULL DEFAULT 0,
    phone TEXT,
    phone_verified BIGINT NOT NULL DEFAULT 0,
    name TEXT,
    given_name TEXT,
    family_name TEXT,
    address TEXT,
    locale TEXT,
    level TEXT NOT NULL DEFAULT 'simplified',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE consents (
    account_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT '',
    claims TEXT NOT NULL DEFAULT '',
    sid TEXT NOT NULL DEFAULT '',
    auth_time BIGINT NOT NULL DEFAULT 0,
    acr TEXT NOT NULL DEFAULT '',
    amr TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
);
CREATE INDEX grants_account ON grants (account_id, client_id);

CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
