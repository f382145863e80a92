//! The `signing_keys` rows and the in-memory snapshot built from them.

use super::{KeyInfo, KeyStatus};
use crate::jwk::{Jwk, Jwks};
use crate::kek::Kek;
use crate::signing::{Alg, PublicKey, SigningKey};
use crate::Error;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What requests read: replaced whole when the keys change.
pub(super) struct Snapshot {
    /// The primary algorithm's signer.
    pub(super) signer: Arc<SigningKey>,
    /// The signer of every algorithm that has an active key (the primary's included).
    pub(super) signers: HashMap<Alg, Arc<SigningKey>>,
    pub(super) jwks: Arc<str>,
    pub(super) publics: HashMap<String, PublicKey>,
    /// Published kids in load order, to tell whether a reload changed anything.
    pub(super) published: Vec<String>,
}

/// A row of `signing_keys`.
pub(super) struct KeyRow {
    pub(super) info: KeyInfo,
    pub(super) private_key: Vec<u8>,
    pub(super) public_jwk: String,
}

const SELECT: &str =
    "SELECT kid, alg, private_key, public_jwk, created_at, activates_at, retired_at, expires_at \
     FROM signing_keys ORDER BY activates_at, kid";
const INSERT: &str =
    "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Generates a key off the async threads (RSA generation takes a while).
pub(super) async fn generate(alg: Alg) -> Result<SigningKey, Error> {
    tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|e| Error::Key(format!("key generation task failed: {e}")))?
}

pub(super) async fn insert(
    conn: &mut sqlx::AnyConnection,
    kek: &Kek,
    key: &SigningKey,
    now: i64,
    activates: i64,
) -> Result<(), Error> {
    let enc = kek.encrypt(key.kid().as_bytes(), key.pkcs8_der());
    let jwk = serde_json::to_string(&key.public_jwk()).map_err(|e| Error::Key(e.to_string()))?;
    sqlx::query(INSERT)
        .bind(key.kid())
        .bind(key.alg().as_str())
        .bind(enc)
        .bind(jwk)
        .bind(now)
        .bind(activates)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn load(pool: &AnyPool, now: i64) -> Result<Vec<KeyRow>, Error> {
    let rows = sqlx::query(SELECT).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let kid: String = r.try_get("kid")?;
            let alg: String = r.try_get("alg")?;
            let alg: Alg = alg
                .parse()
                .map_err(|_| Error::Key(format!("key {kid} has unknown alg {alg}")))?;
            let activates_at: i64 = r.try_get("activates_at")?;
            let retired_at: Option<i64> = r.try_get("retired_at")?;
            let expires_at: Option<i64> = r.try_get("expires_at")?;
            Ok(KeyRow {
                info: KeyInfo {
                    kid,
                    alg,
                    status: KeyStatus::at(now, activates_at, retired_at, expires_at),
                    created_at: r.try_get("created_at")?,
                    activates_at,
                    retired_at,
                    expires_at,
                },
                private_key: r.try_get("private_key")?,
                public_jwk: r.try_get("public_jwk")?,
            })
        })
        .collect()
}

/// The deterministic signer of `alg`: its active key with the latest activation, then the
/// greatest kid.
pub(super) fn signer_row(rows: &[KeyRow], alg: Alg) -> Option<&KeyRow> {
    rows.iter()
        .filter(|r| r.info.status == KeyStatus::Active && r.info.alg == alg)
        .max_by(|a, b| (a.info.activates_at, &a.info.kid).cmp(&(b.info.activates_at, &b.info.kid)))
}

/// A snapshot of `rows`, or `None` when no key of the primary alg (`algs[0]`) is active.
/// Decrypts only the signers.
pub(super) fn build(
    kek: &Kek,
    rows: &[KeyRow],
    cache: &Mutex<HashMap<String, Arc<SigningKey>>>,
    algs: &[Alg],
) -> Result<Option<Snapshot>, Error> {
    let Some(primary) = algs.first() else {
        return Ok(None);
    };
    if signer_row(rows, *primary).is_none() {
        return Ok(None);
    }
    let mut jwks = Jwks::default();
    let mut publics = HashMap::new();
    let mut published = Vec::new();
    for r in rows.iter().filter(|r| r.info.status.is_published()) {
        let jwk: Jwk = serde_json::from_str(&r.public_jwk)
            .map_err(|e| Error::Key(format!("stored JWK of {} is unreadable: {e}", r.info.kid)))?;
        publics.insert(r.info.kid.clone(), PublicKey::from_jwk(&jwk)?);
        jwks.keys.push(jwk);
        published.push(r.info.kid.clone());
    }
    let mut cache = match cache.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    cache.retain(|kid, _| publics.contains_key(kid));
    let mut signers = HashMap::new();
    for alg in algs {
        let Some(active) = signer_row(rows, *alg) else {
            continue;
        };
        let kid = &active.info.kid;
        let signer = match cache.get(kid) {
            Some(k) => k.clone(),
            None => {
                let der = kek.decrypt(kid.as_bytes(), &active.private_key)?;
                let k = Arc::new(SigningKey::from_pkcs8(kid.clone(), active.info.alg, der)?);
                cache.insert(kid.clone(), k.clone());
                k
            }
        };
        signers.insert(*alg, signer);
    }
    let Some(signer) = signers.get(primary).cloned() else {
        return Ok(None);
    };
    let json = serde_json::to_string(&jwks).map_err(|e| Error::Key(e.to_string()))?;
    Ok(Some(Snapshot {
        signer,
        signers,
        jwks: json.into(),
        publics,
        published,
    }))
}
