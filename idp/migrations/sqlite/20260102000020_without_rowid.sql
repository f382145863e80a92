-- The four tables that every sign-in and every code redemption write to, rebuilt as
-- WITHOUT ROWID tables keyed by what is looked up. A rowid table with a TEXT primary key
-- keeps the rows in one b-tree and the key in another, so each insert dirtied one page
-- more than needed, and each commit wrote that page to the WAL and later to the database
-- file. Sign-in history is clustered by account and time, which is how it is listed; the
-- event id stays unique within the key. Rows and indexes are kept as they were.
-- (PostgreSQL has no rowid tables; its migration of the same version is empty.)

CREATE TABLE login_events_new (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    id TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    device TEXT NOT NULL,
    amr TEXT NOT NULL,
    PRIMARY KEY (account_id, at, id)
) WITHOUT ROWID;
INSERT INTO login_events_new (account_id, at, id, ip, user_agent, device, amr)
    SELECT account_id, at, id, ip, user_agent, device, amr FROM login_events;
DROP TABLE login_events;
ALTER TABLE login_events_new RENAME TO login_events;
CREATE INDEX login_events_device ON login_events (account_id, device);

CREATE TABLE account_sessions_new (
    sid TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    cache_key TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO account_sessions_new (sid, account_id, cache_key, started_at, expires_at, ip, user_agent)
    SELECT sid, account_id, cache_key, started_at, expires_at, ip, user_agent FROM account_sessions;
DROP TABLE account_sessions;
ALTER TABLE account_sessions_new RENAME TO account_sessions;
CREATE INDEX account_sessions_account ON account_sessions (account_id, started_at);

CREATE TABLE grants_new (
    id TEXT NOT NULL PRIMARY KEY,
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
) WITHOUT ROWID;
INSERT INTO grants_new (id, account_id, client_id, scope, claims, sid, auth_time, acr, amr,
                        created_at, expires_at, revoked_at)
    SELECT id, account_id, client_id, scope, claims, sid, auth_time, acr, amr,
           created_at, expires_at, revoked_at FROM grants;
DROP TABLE grants;
ALTER TABLE grants_new RENAME TO grants;
CREATE INDEX grants_account ON grants (account_id, client_id);

CREATE TABLE refresh_tokens_new (
    hash TEXT NOT NULL PRIMARY KEY,
    grant_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
) WITHOUT ROWID;
INSERT INTO refresh_tokens_new (hash, grant_id, created_at, expires_at, used_at)
    SELECT hash, grant_id, created_at, expires_at, used_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
