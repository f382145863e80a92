//! The key ring: signing keys in SQL (private halves encrypted under the KEK), a cheap
//! in-memory snapshot for every request, and rotation.
//!
//! Rotation publishes a new key `prepublish_secs` before it signs, so relying parties that
//! cache the JWKS already know it; the key it replaces stops signing when the new one starts
//! and stays published for `retain_secs` (at least the longest token lifetime), so every
//! token it signed can still be verified. Nodes sharing a database converge by `refresh`.

use crate::signing::Alg;
use crate::Error;
use serde::Serialize;
use sqlx::AnyPool;

mod keyring;
mod rows;
pub use keyring::KeyRing;

/// Which SQL backend a pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// From a database URL's scheme.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Creates this crate's tables. Other crates run their own migrators on the same database
/// with other version numbers, hence `ignore_missing`.
pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), Error> {
    let mut m = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    m.set_ignore_missing(true);
    m.run(pool).await?;
    Ok(())
}

/// When keys are made, start signing, stop, and leave the JWKS.
#[derive(Clone, Debug)]
pub struct RotationPolicy {
    /// Algorithm of the primary key: the one [`KeyRing::signer`] returns.
    pub alg: Alg,
    /// Further algorithms the ring keeps an active key for (e.g. RS256 beside an ES256
    /// primary, for clients that registered `id_token_signed_response_alg`), each rotated
    /// with the primary.
    pub also: Vec<Alg>,
    /// Seconds a new key is published before it signs.
    pub prepublish_secs: i64,
    /// Scheduled rotation period, seconds.
    pub rotation_period_secs: Option<i64>,
    /// Seconds a retired key stays published.
    pub retain_secs: i64,
}

impl RotationPolicy {
    /// Every algorithm the ring keeps a key for, the primary first, without repeats.
    pub fn algs(&self) -> Vec<Alg> {
        let mut v = vec![self.alg];
        for a in &self.also {
            if !v.contains(a) {
                v.push(*a);
            }
        }
        v
    }
}

impl Default for RotationPolicy {
    fn default() -> Self {
        RotationPolicy {
            alg: Alg::ES256,
            also: Vec::new(),
            prepublish_secs: 3600,
            rotation_period_secs: Some(90 * 86400),
            retain_secs: 86400,
        }
    }
}

/// A key's place in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Published, not signing yet.
    Pending,
    /// Signing.
    Active,
    /// No longer signing, still published.
    Retired,
    /// Gone from the JWKS.
    Expired,
}

/// A key and its state, as `keys list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: Alg,
    /// State.
    pub status: KeyStatus,
    /// Created (unix seconds).
    pub created_at: i64,
    /// Signs from.
    pub activates_at: i64,
    /// Stops signing at.
    pub retired_at: Option<i64>,
    /// Leaves the JWKS at.
    pub expires_at: Option<i64>,
}

impl KeyStatus {
    /// The state at `now` of a key with these times. Expiry wins over retirement, which wins
    /// over activation, so a pending key that was superseded (retired and expired before it
    /// activated) is `Expired`.
    pub fn at(
        now: i64,
        activates_at: i64,
        retired_at: Option<i64>,
        expires_at: Option<i64>,
    ) -> KeyStatus {
        if expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else if retired_at.is_some_and(|r| r <= now) {
            KeyStatus::Retired
        } else if activates_at > now {
            KeyStatus::Pending
        } else {
            KeyStatus::Active
        }
    }

    /// Whether the key is in the JWKS.
    pub fn is_published(self) -> bool {
        self != KeyStatus::Expired
    }
}

#[cfg(test)]
mod tests;
