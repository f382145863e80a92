//! Durable state in SQL (SQLite or PostgreSQL).
//!
//! The SQL here is portable between the two backends (`$n` placeholders, `BIGINT`/`TEXT`
//! columns, `ON CONFLICT`), so each store is written once; the backends differ only in their
//! migration folders, which `migrate` picks, and in how statements reach them ([`sql`]:
//! PostgreSQL through the sqlx pool, an SQLite file inline on one connection).

/// A grant's columns as `g_`-prefixed names, for queries that join `grants g` to another
/// table; read back by `grants::from_prefixed_row`. Defined here, before
/// the modules, so that every store module can use it.
macro_rules! grant_columns {
    () => {
        "g.id AS g_id, g.account_id AS g_account_id, g.client_id AS g_client_id, \
         g.scope AS g_scope, g.claims AS g_claims, g.sid AS g_sid, g.auth_time AS g_auth_time, \
         g.acr AS g_acr, g.amr AS g_amr, g.created_at AS g_created_at, \
         g.expires_at AS g_expires_at, g.revoked_at AS g_revoked_at, g.dpop_jkt AS g_dpop_jkt, g.resources AS g_resources"
    };
}

pub mod accounts;
pub mod clients;
pub mod consents;
pub mod grants;
pub mod history;
pub mod identity;
pub mod notifications;
pub mod otp_factors;
pub mod passkeys;
pub mod pending_logouts;
pub mod pending_notices;
pub mod profile;
pub mod recovery;
pub mod retry_queue;
pub mod sql;
#[cfg(test)]
mod upgrade_tests;

pub use accounts::{Account, Accounts, NewAccount};
pub use clients::{Client, Clients, NewClient};
pub use consents::{Consent, Consents};
pub use grants::{Grant, Grants, RefreshUse};

use keys::Backend;
use sql::Sql;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

/// A storage failure; its detail goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The SQLite file refused or failed a statement.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be decoded.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// A unique value (login, client id) is taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
}

/// The durable stores.
#[derive(Clone, Debug)]
pub struct Db {
    /// The sqlx pool: the key ring, the CA, the audit trail, the signer and migrations.
    pub pool: AnyPool,
    /// Where this crate's stores send their statements: for an SQLite file, one connection
    /// used inline ([`sql`]); otherwise the pool.
    pub sql: Sql,
    /// Which backend the pool talks to.
    pub backend: Backend,
}

impl Db {
    /// Connects to `url` (`sqlite://...` or `postgres://...`) with the backend's default
    /// pool size.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        Db::connect_with(url, None).await
    }

    /// Connects to `url` with at most `max_connections` pooled connections (default: 1 for
    /// SQLite, 16 for PostgreSQL). For an SQLite file, this crate's stores also get their
    /// own inline connection ([`sql`]); the pool serves the other crates.
    ///
    /// SQLite's default is one connection. SQLite runs one writer at a time whatever the
    /// pool, and each connection keeps its own page cache, which it drops whenever another
    /// connection has written: with several connections, every read after a write reads
    /// its pages again from the file (46 `pread` calls per sign-in flow with four
    /// connections, one with a single connection). More connections let long reads run
    /// beside each other; the setting is there for that.
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or(StoreError::Corrupt("database url"))?;
        let opts = AnyPoolOptions::new().acquire_timeout(std::time::Duration::from_secs(10));
        let pool = match backend {
            // A busy timeout instead of instant "database is locked" errors (the command
            // line writes beside a running server), and WAL with synchronous=NORMAL (durable
            // at checkpoints, no fsync per commit; a crash can lose at most the last
            // commits, never corrupt the file).
            Backend::Sqlite => {
                // A local file cannot drop a connection: no ping before every query.
                opts.max_connections(max_connections.unwrap_or(1).max(1))
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA busy_timeout = 5000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA journal_mode = WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                opts.max_connections(max_connections.unwrap_or(16).max(1))
                    .connect(url)
                    .await?
            }
        };
        // The file exists now (the pool created it, in WAL mode).
        let sql = match (backend, sql::sqlite_path(url)) {
            (Backend::Sqlite, Some(path)) => Sql::Lite(sql::Lite::open(&path)?),
            _ => Sql::Any(pool.clone()),
        };
        Ok(Db { pool, sql, backend })
    }

    /// Runs the migrations of every crate that owns tables here.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        keys::migrate(&self.pool, self.backend)
            .await
            .map_err(|e| match e {
                keys::Error::Db(e) => StoreError::Db(e),
                keys::Error::Migrate(e) => StoreError::Migrate(e),
                _ => StoreError::Corrupt("keys migration"),
            })?;
        let mut m = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        m.set_ignore_missing(true);
        m.run(&self.pool).await?;
        Ok(())
    }

    /// Client registrations.
    pub fn clients(&self) -> Clients<'_> {
        Clients(&self.sql)
    }
    /// Citizen accounts.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts(&self.sql)
    }
    /// Identities and level history of citizen accounts.
    pub fn identities(&self) -> identity::Identities<'_> {
        identity::Identities(&self.sql)
    }
    /// SMS / e-mail one-time-code factors.
    pub fn otp_factors(&self) -> otp_factors::OtpFactors<'_> {
        otp_factors::OtpFactors(&self.sql)
    }
    /// Second-factor recovery codes.
    pub fn recovery_codes(&self) -> recovery::RecoveryCodes<'_> {
        recovery::RecoveryCodes(&self.sql)
    }
    /// Passkeys (WebAuthn credentials).
    pub fn passkeys(&self) -> passkeys::Passkeys<'_> {
        passkeys::Passkeys(&self.sql)
    }
    /// Sign-in history.
    pub fn history(&self) -> history::History<'_> {
        history::History(&self.sql)
    }
    /// The accounts' browser sessions.
    pub fn sessions(&self) -> history::Sessions<'_> {
        history::Sessions(&self.sql)
    }
    /// What each citizen wants to be notified of, and where.
    pub fn notification_settings(&self) -> notifications::NotificationPrefs<'_> {
        notifications::NotificationPrefs(&self.sql)
    }
    /// Back-channel logouts on their way to clients.
    pub fn pending_logouts(&self) -> pending_logouts::PendingLogouts<'_> {
        pending_logouts::PendingLogouts(&self.sql)
    }
    /// Notices waiting to be tried again.
    pub fn pending_notices(&self) -> pending_notices::PendingNotices<'_> {
        pending_notices::PendingNotices(&self.sql)
    }
    /// Remembered consents.
    pub fn consents(&self) -> Consents<'_> {
        Consents(&self.sql)
    }
    /// Grants and refresh tokens.
    pub fn grants(&self) -> Grants<'_> {
        Grants(&self.sql)
    }
}

/// Decodes a JSON text column, mapping failure to [`StoreError::Corrupt`].
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(what))
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
pub(crate) fn conflict(e: StoreError, what: &'static str) -> StoreError {
    match &e {
        StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::Conflict(what)
        }
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(what)
        }
        _ => e,
    }
}
