//! [`KeyRing`]: the provider's signing keys, loaded from SQL into a snapshot that every
//! request reads without touching the database.
//!
//! Several nodes may share the database; each converges on the same signer through
//! [`KeyRing::refresh`], because the choice is deterministic: among the active keys, the one
//! with the latest `activates_at`, then the greatest kid. Two nodes starting at once on an
//! empty database may both create a first key; both are valid and published, and after a
//! refresh both nodes sign with the same one.

use super::rows::{build, generate, insert, load, signer_row, Snapshot};
use super::{KeyInfo, KeyStatus, RotationPolicy};
use crate::clock::Clock;
use crate::kek::Kek;
use crate::signing::{Alg, PublicKey, SigningKey};
use crate::Error;
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// The provider's signing keys. Cheap to read (`signer`, `jwks_json`, `public_key`), changed
/// by `refresh`, `rotate` and `rotate_if_due`.
pub struct KeyRing {
    pool: AnyPool,
    kek: Kek,
    policy: RotationPolicy,
    clock: Arc<dyn Clock>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Decrypted signing keys by kid, so a refresh does not decrypt and parse again.
    decrypted: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl KeyRing {
    /// Loads the keys; if none is active (first start), creates one that signs at once.
    pub async fn load_or_init(
        pool: AnyPool,
        kek: Kek,
        policy: RotationPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<KeyRing>, Error> {
        let now = clock.now();
        let mut rows = load(&pool, now).await?;
        let algs = policy.algs();
        for alg in &algs {
            if signer_row(&rows, *alg).is_some() {
                continue;
            }
            let key = generate(*alg).await?;
            {
                let mut conn = pool.acquire().await?; // released before reloading
                insert(&mut conn, &kek, &key, now, now).await?;
            }
            tracing::info!(
                kid = key.kid(),
                alg = key.alg().as_str(),
                "created the first signing key of its algorithm"
            );
            rows = load(&pool, now).await?;
        }
        let decrypted = Mutex::new(HashMap::new());
        let snap = build(&kek, &rows, &decrypted, &algs)?
            .ok_or(Error::Key("no active signing key".into()))?;
        Ok(Arc::new(KeyRing {
            pool,
            kek,
            policy,
            clock,
            snapshot: RwLock::new(Arc::new(snap)),
            decrypted,
        }))
    }

    fn snap(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The key that signs now (the primary algorithm's).
    pub fn signer(&self) -> Arc<SigningKey> {
        self.snap().signer.clone()
    }

    /// The key of `alg` that signs now, if the ring keeps that algorithm.
    pub fn signer_for(&self, alg: Alg) -> Option<Arc<SigningKey>> {
        self.snap().signers.get(&alg).cloned()
    }

    /// The algorithms the ring signs with, the primary first.
    pub fn algs(&self) -> Vec<Alg> {
        self.policy.algs()
    }

    /// The published JWKS (`{"keys":[...]}`: pending, active and retired keys), serialised
    /// once per change.
    pub fn jwks_json(&self) -> Arc<str> {
        self.snap().jwks.clone()
    }

    /// A published key, for verifying our own tokens.
    pub fn public_key(&self, kid: &str) -> Option<PublicKey> {
        self.snap().publics.get(kid).cloned()
    }

    /// Reloads from the database and applies the passage of time: a pending key whose time has
    /// come signs, a retired key stops, an expired key leaves the JWKS.
    pub async fn refresh(&self) -> Result<(), Error> {
        let rows = load(&self.pool, self.clock.now()).await?;
        let current = self.snap();
        let algs = self.policy.algs();
        let same = algs.iter().all(|a| {
            signer_row(&rows, *a).map(|r| r.info.kid.as_str())
                == current.signers.get(a).map(|k| k.kid())
        }) && rows
            .iter()
            .filter(|r| r.info.status.is_published())
            .map(|r| &r.info.kid)
            .eq(current.published.iter());
        if same {
            return Ok(());
        }
        match build(&self.kek, &rows, &self.decrypted, &algs)? {
            Some(s) => {
                tracing::info!(
                    signer = s.signer.kid(),
                    published = s.published.len(),
                    "signing keys changed"
                );
                let s = Arc::new(s);
                match self.snapshot.write() {
                    Ok(mut g) => *g = s,
                    Err(p) => *p.into_inner() = s,
                }
            }
            None => {
                tracing::error!("no signing key is active; still signing with the previous one")
            }
        }
        Ok(())
    }

    /// Publishes a new key of every algorithm the ring keeps; each signs after
    /// `prepublish_secs`. The active key(s) of its algorithm retire when it starts signing
    /// and expire `retain_secs` later. A key still pending from an earlier rotation never
    /// signed, so it is superseded: retired and expired at once, leaving the JWKS. Refreshes
    /// the snapshot; returns the new keys, the primary's first.
    pub async fn rotate(&self) -> Result<Vec<KeyInfo>, Error> {
        let algs = self.policy.algs();
        let mut keys = Vec::with_capacity(algs.len());
        for alg in &algs {
            keys.push(generate(*alg).await?);
        }
        let now = self.clock.now();
        let activates = now + self.policy.prepublish_secs.max(0);
        let expires = activates + self.policy.retain_secs.max(0);
        let mut tx = self.pool.begin().await?;
        for key in &keys {
            let alg = key.alg().as_str();
            sqlx::query(
                "UPDATE signing_keys SET retired_at = $1, expires_at = $1 \
                 WHERE alg = $2 AND activates_at > $1 AND (expires_at IS NULL OR expires_at > $1)",
            )
            .bind(now)
            .bind(alg)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE signing_keys SET retired_at = $1, expires_at = $2 \
                 WHERE alg = $4 AND activates_at <= $3 AND (retired_at IS NULL OR retired_at > $3)",
            )
            .bind(activates)
            .bind(expires)
            .bind(now)
            .bind(alg)
            .execute(&mut *tx)
            .await?;
            insert(&mut tx, &self.kek, key, now, activates).await?;
        }
        tx.commit().await?;
        for key in &keys {
            tracing::info!(
                kid = key.kid(),
                alg = key.alg().as_str(),
                activates_at = activates,
                "signing key rotated"
            );
        }
        self.refresh().await?;
        Ok(keys
            .iter()
            .map(|key| KeyInfo {
                kid: key.kid().to_owned(),
                alg: key.alg(),
                status: KeyStatus::at(now, activates, None, None),
                created_at: now,
                activates_at: activates,
                retired_at: None,
                expires_at: None,
            })
            .collect())
    }

    /// Rotates when the newest active or pending key was created `rotation_period_secs` ago
    /// or more (or there is none); `None` when not due or scheduled rotation is off.
    pub async fn rotate_if_due(&self) -> Result<Option<Vec<KeyInfo>>, Error> {
        let Some(period) = self.policy.rotation_period_secs else {
            return Ok(None);
        };
        let now = self.clock.now();
        let rows = load(&self.pool, now).await?;
        let newest = rows
            .iter()
            .filter(|r| r.info.alg == self.policy.alg)
            .filter(|r| matches!(r.info.status, KeyStatus::Active | KeyStatus::Pending))
            .map(|r| r.info.created_at)
            .max();
        match newest {
            Some(t) if now - t < period => Ok(None),
            _ => self.rotate().await.map(Some),
        }
    }

    /// Every key in the database with its state now, oldest activation first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, Error> {
        Ok(load(&self.pool, self.clock.now())
            .await?
            .into_iter()
            .map(|r| r.info)
            .collect())
    }

    /// Keeps the ring fresh: every `every`, `refresh` then `rotate_if_due`. Errors are logged;
    /// the task ends when the ring is dropped.
    pub fn spawn_refresher(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let ring = Arc::downgrade(self);
        let every = every.max(std::time::Duration::from_millis(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate; the ring is fresh
            loop {
                tick.tick().await;
                let Some(ring) = ring.upgrade() else { break };
                if let Err(e) = ring.refresh().await {
                    tracing::error!(error = %e, "signing key refresh failed");
                }
                if let Err(e) = ring.rotate_if_due().await {
                    tracing::error!(error = %e, "scheduled signing key rotation failed");
                }
            }
        })
    }
}
