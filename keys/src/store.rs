//! The key ring: signing keys in SQL (private halves encrypted under the KEK), a cheap
//! in-memory snapshot for every request, and rotation.
//!
//! Rotation publishes a new key `prepublish_secs` before it signs, so relying parties that
//! cache the JWKS already know it; the key it replaces stops signing when the new one starts
//! and stays published for `retain_secs` (at least the longest token lifetime), so every
//! token it signed can still be verified. Nodes sharing a database converge by `refresh`.

use crate::clock::Clock;
use crate::jwk::{Jwk, Jwks};
use crate::kek::Kek;
use crate::signing::{Alg, PublicKey, SigningKey};
use crate::Error;
use serde::Serialize;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

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
    /// Algorithm of new keys.
    pub alg: Alg,
    /// Seconds a new key is published before it signs.
    pub prepublish_secs: i64,
    /// Scheduled rotation period, seconds.
    pub rotation_period_secs: Option<i64>,
    /// Seconds a retired key stays published.
    pub retain_secs: i64,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        RotationPolicy { alg: Alg::ES256, prepublish_secs: 3600, rotation_period_secs: Some(90 * 86400), retain_secs: 86400 }
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

/// What `keys list` shows.
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
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

struct Snapshot {
    signer: Arc<SigningKey>,
    jwks: Arc<str>,
    publics: HashMap<String, PublicKey>,
}

/// The provider's signing keys.
pub struct KeyRing {
    pool: AnyPool,
    kek: Kek,
    policy: RotationPolicy,
    clock: Arc<dyn Clock>,
    snapshot: RwLock<Arc<Snapshot>>,
    decrypted: Mutex<HashMap<String, Arc<SigningKey>>>,
}

struct Row_ {
    info: KeyInfo,
    private_key: Vec<u8>,
    public_jwk: String,
}

fn status(now: i64, activates: i64, retired: Option<i64>, expires: Option<i64>) -> KeyStatus {
    if expires.is_some_and(|e| e <= now) {
        KeyStatus::Expired
    } else if retired.is_some_and(|r| r <= now) {
        KeyStatus::Retired
    } else if activates > now {
        KeyStatus::Pending
    } else {
        KeyStatus::Active
    }
}

impl KeyRing {
    /// Loads the keys, creating a first active key if none signs.
    pub async fn load_or_init(pool: AnyPool, kek: Kek, policy: RotationPolicy, clock: Arc<dyn Clock>) -> Result<Arc<KeyRing>, Error> {
        let rows = Self::rows(&pool, clock.now()).await?;
        let ring_has_signer = rows.iter().any(|r| r.info.status == KeyStatus::Active);
        if !ring_has_signer {
            let now = clock.now();
            let key = SigningKey::generate(policy.alg)?;
            Self::insert(&pool, &kek, &key, now, now).await?;
            tracing::info!(kid = key.kid(), alg = key.alg().as_str(), "created the first signing key");
        }
        let rows = Self::rows(&pool, clock.now()).await?;
        let snap = build_snapshot(&kek, &rows, &Mutex::new(HashMap::new()))?.ok_or(Error::Key("no active signing key".into()))?;
        Ok(Arc::new(KeyRing {
            pool,
            kek,
            policy,
            clock,
            snapshot: RwLock::new(Arc::new(snap)),
            decrypted: Mutex::new(HashMap::new()),
        }))
    }

    async fn insert(pool: &AnyPool, kek: &Kek, key: &SigningKey, now: i64, activates: i64) -> Result<(), Error> {
        let enc = kek.encrypt(key.kid().as_bytes(), key.pkcs8_der())?;
        let jwk = serde_json::to_string(&key.public_jwk()).map_err(|e| Error::Key(e.to_string()))?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.kid())
        .bind(key.alg().as_str())
        .bind(enc)
        .bind(jwk)
        .bind(now)
        .bind(activates)
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn rows(pool: &AnyPool, now: i64) -> Result<Vec<Row_>, Error> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, public_jwk, created_at, activates_at, retired_at, expires_at FROM signing_keys ORDER BY activates_at, kid",
        )
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| {
                let activates: i64 = r.try_get("activates_at")?;
                let retired: Option<i64> = r.try_get("retired_at")?;
                let expires: Option<i64> = r.try_get("expires_at")?;
                Ok(Row_ {
                    info: KeyInfo {
                        kid: r.try_get("kid")?,
                        alg: r.try_get("alg")?,
                        status: status(now, activates, retired, expires),
                        created_at: r.try_get("created_at")?,
                        activates_at: activates,
                        retired_at: retired,
                        expires_at: expires,
                    },
                    private_key: r.try_get("private_key")?,
                    public_jwk: r.try_get("public_jwk")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Error::from)
    }

    fn snap(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The key that signs now.
    pub fn signer(&self) -> Arc<SigningKey> {
        self.snap().signer.clone()
    }

    /// The published JWKS, serialised.
    pub fn jwks_json(&self) -> Arc<str> {
        self.snap().jwks.clone()
    }

    /// A published key, for verifying our own tokens.
    pub fn public_key(&self, kid: &str) -> Option<PublicKey> {
        self.snap().publics.get(kid).cloned()
    }

    /// Reloads from the database and applies the passage of time.
    pub async fn refresh(&self) -> Result<(), Error> {
        let rows = Self::rows(&self.pool, self.clock.now()).await?;
        if let Some(s) = build_snapshot(&self.kek, &rows, &self.decrypted)? {
            let s = Arc::new(s);
            match self.snapshot.write() {
                Ok(mut g) => *g = s,
                Err(p) => *p.into_inner() = s,
            }
        } else {
            tracing::error!("no signing key is active; keeping the previous one");
        }
        Ok(())
    }

    /// Publishes a new key that signs after the pre-publication period; every key not yet
    /// retired (the active one, and a pending one it supersedes) retires when it starts.
    pub async fn rotate(&self) -> Result<KeyInfo, Error> {
        let now = self.clock.now();
        let activates = now + self.policy.prepublish_secs.max(0);
        let key = SigningKey::generate(self.policy.alg)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE retired_at IS NULL")
            .bind(activates)
            .bind(activates + self.policy.retain_secs)
            .execute(&mut *tx)
            .await?;
        let enc = self.kek.encrypt(key.kid().as_bytes(), key.pkcs8_der())?;
        let jwk = serde_json::to_string(&key.public_jwk()).map_err(|e| Error::Key(e.to_string()))?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.kid())
        .bind(key.alg().as_str())
        .bind(enc)
        .bind(jwk)
        .bind(now)
        .bind(activates)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(kid = key.kid(), activates_at = activates, "signing key rotated");
        self.refresh().await?;
        Ok(KeyInfo {
            kid: key.kid().to_owned(),
            alg: key.alg().as_str().to_owned(),
            status: status(now, activates, None, None),
            created_at: now,
            activates_at: activates,
            retired_at: None,
            expires_at: None,
        })
    }

    /// Rotates when the newest key is older than the rotation period.
    pub async fn rotate_if_due(&self) -> Result<Option<KeyInfo>, Error> {
        let Some(period) = self.policy.rotation_period_secs else { return Ok(None) };
        let now = self.clock.now();
        let rows = Self::rows(&self.pool, now).await?;
        let newest = rows.iter().filter(|r| r.info.retired_at.is_none()).map(|r| r.info.created_at).max();
        match newest {
            Some(t) if now - t < period => Ok(None),
            _ => self.rotate().await.map(Some),
        }
    }

    /// Every key with its state.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, Error> {
        Ok(Self::rows(&self.pool, self.clock.now()).await?.into_iter().map(|r| r.info).collect())
    }

    /// Keeps the ring fresh: reloads every `every` and runs scheduled rotation.
    pub fn spawn_refresher(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let ring = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(ring) = ring.upgrade() else { break };
                if let Err(e) = ring.refresh().await {
                    tracing::error!(error = %e, "key refresh failed");
                }
                if let Err(e) = ring.rotate_if_due().await {
                    tracing::error!(error = %e, "scheduled key rotation failed");
                }
            }
        })
    }
}

fn build_snapshot(kek: &Kek, rows: &[Row_], cache: &Mutex<HashMap<String, Arc<SigningKey>>>) -> Result<Option<Snapshot>, Error> {
    let mut jwks = Jwks::default();
    let mut publics = HashMap::new();
    for r in rows.iter().filter(|r| r.info.status != KeyStatus::Expired) {
        let jwk: Jwk = serde_json::from_str(&r.public_jwk).map_err(|e| Error::Key(e.to_string()))?;
        publics.insert(r.info.kid.clone(), PublicKey::from_jwk(&jwk)?);
        jwks.keys.push(jwk);
    }
    let Some(active) = rows
        .iter()
        .filter(|r| r.info.status == KeyStatus::Active)
        .max_by(|a, b| (a.info.activates_at, &a.info.kid).cmp(&(b.info.activates_at, &b.info.kid)))
    else {
        return Ok(None);
    };
    let cached = cache.lock().ok().and_then(|m| m.get(&active.info.kid).cloned());
    let signer = match cached {
        Some(k) => k,
        None => {
            let der = kek.decrypt(active.info.kid.as_bytes(), &active.private_key)?;
            let alg: Alg = active.info.alg.parse()?;
            let k = Arc::new(SigningKey::from_pkcs8(Some(active.info.kid.clone()), alg, der)?);
            if let Ok(mut m) = cache.lock() {
                m.insert(active.info.kid.clone(), k.clone());
            }
            k
        }
    };
    let json = serde_json::to_string(&jwks).map_err(|e| Error::Key(e.to_string()))?;
    Ok(Some(Snapshot { signer, jwks: json.into(), publics }))
}

#[cfg(test)]
mod tests;
