//! The CA's rows: authorities (`ca_authorities`), citizen certificates (`ca_citizen_certs`)
//! and counters (`ca_counters`). Private keys go in and out encrypted under the KEK, bound to
//! their role or serial as AES-GCM associated data, so a row's key cannot be swapped for
//! another's unnoticed.

use super::{Authority, CaError, Role};
use crate::Kek;
use der::{Decode, Encode};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sqlx::{AnyPool, Row};
use x509_cert::Certificate;

fn aad(role: Role) -> Vec<u8> {
    format!("ca:{}", role.as_str()).into_bytes()
}

/// The four authorities in [`Role::ALL`] order, or `None` on a fresh database.
pub(super) async fn load_authorities(
    pool: &AnyPool,
    kek: &Kek,
) -> Result<Option<[Authority; 4]>, CaError> {
    let rows = sqlx::query("SELECT role, private_key, cert_der FROM ca_authorities")
        .fetch_all(pool)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut found: [Option<Authority>; 4] = [None, None, None, None];
    for r in &rows {
        let role: String = r.try_get("role")?;
        let Some(i) = Role::ALL.iter().position(|x| x.as_str() == role) else {
            return Err(CaError::Corrupt(format!("unknown CA role {role}")));
        };
        let enc: Vec<u8> = r.try_get("private_key")?;
        let der: Vec<u8> = r.try_get("cert_der")?;
        let pkcs8 = zeroize::Zeroizing::new(kek.decrypt(&aad(Role::ALL[i]), &enc)?);
        let key = p256::ecdsa::SigningKey::from_pkcs8_der(&pkcs8)
            .map_err(|_| CaError::Corrupt(format!("{role} key is not a P-256 PKCS#8 key")))?;
        let cert = Certificate::from_der(&der)
            .map_err(|e| CaError::Corrupt(format!("{role} certificate: {e}")))?;
        found[i] = Some(Authority { cert, der, key });
    }
    match found {
        [Some(a), Some(b), Some(c), Some(d)] => Ok(Some([a, b, c, d])),
        _ => Err(CaError::Corrupt(
            "some CA authorities are missing from ca_authorities".into(),
        )),
    }
}

/// Inserts all four in one transaction: if another node got there first, the primary key
/// stops this one and nothing of it is kept.
pub(super) async fn insert_authorities(
    pool: &AnyPool,
    kek: &Kek,
    all: &[Authority; 4],
    now: i64,
) -> Result<(), CaError> {
    let mut tx = pool.begin().await?;
    for (role, a) in Role::ALL.iter().zip(all) {
        let pkcs8 = a
            .key
            .to_pkcs8_der()
            .map_err(|e| CaError::Build(format!("PKCS#8 encoding: {e}")))?;
        let enc = kek.encrypt(&aad(*role), pkcs8.as_bytes());
        sqlx::query(
            "INSERT INTO ca_authorities (role, private_key, cert_der, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(role.as_str())
        .bind(enc)
        .bind(a.cert.to_der()?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Adds one to the counter `name` and returns the new value (1 the first time). Safe across
/// nodes: the increment is a single statement.
pub(super) async fn next_counter(pool: &AnyPool, name: &str) -> Result<i64, CaError> {
    sqlx::query(
        "INSERT INTO ca_counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .execute(pool)
    .await?;
    let row =
        sqlx::query("UPDATE ca_counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(name)
            .fetch_one(pool)
            .await?;
    Ok(row.try_get("value")?)
}
