//! Citizen certificates: issue (key pair made and kept server-side), look up, revoke.
//!
//! RFC 5280 §4.1.2.5: a certificate never outlives its issuer; §5.3.1: the reason code kept
//! with a revocation (removeFromCRL is for delta CRLs and is refused here). A revocation is
//! final: revoking again changes nothing and keeps the first time and reason.

use super::citizen_key::{CitizenKey, KeyAlg};
use super::profile::{self, CitizenTbs};
use super::subject::CitizenSubject;
use super::{Ca, CaError};
use der::Encode;
use sqlx::Row;
use x509_cert::ext::pkix::CrlReason;

/// Where a certificate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked (it may still have expired: see `not_after`).
    Valid,
    /// Revoked at a unix time, for a reason.
    Revoked {
        /// When (unix seconds).
        at: i64,
        /// Why.
        reason: CrlReason,
    },
}

/// A citizen certificate as stored.
#[derive(Clone, Debug)]
pub struct CitizenCert {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// The account it was issued to.
    pub account_id: String,
    /// The key algorithm.
    pub key_alg: KeyAlg,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Valid from (unix seconds).
    pub not_before: i64,
    /// Valid until (unix seconds).
    pub not_after: i64,
    /// Revoked or not.
    pub status: CertStatus,
}

const COLUMNS: &str = "serial, account_id, key_alg, cert_der, not_before, not_after, status, \
                       revoked_at, revocation_reason";

pub(super) fn reason_from_code(code: i64) -> Option<CrlReason> {
    Some(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

fn row_to_cert(r: &sqlx::any::AnyRow) -> Result<CitizenCert, CaError> {
    let serial: String = r.try_get("serial")?;
    let status: String = r.try_get("status")?;
    let status = match status.as_str() {
        "valid" => CertStatus::Valid,
        "revoked" => {
            let at: Option<i64> = r.try_get("revoked_at")?;
            let code: Option<i64> = r.try_get("revocation_reason")?;
            let reason = code.and_then(reason_from_code);
            match (at, reason) {
                (Some(at), Some(reason)) => CertStatus::Revoked { at, reason },
                _ => {
                    return Err(CaError::Corrupt(format!(
                        "revocation of {serial} incomplete"
                    )))
                }
            }
        }
        other => return Err(CaError::Corrupt(format!("status {other} of {serial}"))),
    };
    let alg: String = r.try_get("key_alg")?;
    Ok(CitizenCert {
        account_id: r.try_get("account_id")?,
        key_alg: alg.parse()?,
        der: r.try_get("cert_der")?,
        not_before: r.try_get("not_before")?,
        not_after: r.try_get("not_after")?,
        status,
        serial,
    })
}

fn aad(serial: &str) -> Vec<u8> {
    format!("citizen:{serial}").into_bytes()
}

impl Ca {
    /// Makes a key pair of `key_alg` for `account_id`, stores it encrypted and issues a
    /// certificate naming `subject`, valid from now for `validity_secs` (the configured
    /// default, one year, when `None`).
    pub async fn issue(
        &self,
        account_id: &str,
        subject: &CitizenSubject,
        key_alg: KeyAlg,
        validity_secs: Option<i64>,
    ) -> Result<CitizenCert, CaError> {
        subject.validate()?;
        let secs = validity_secs.unwrap_or(self.settings.citizen_validity_secs);
        if secs <= 0 {
            return Err(CaError::BadValidity("validity must be positive"));
        }
        let now = self.clock.now();
        let not_after = now.saturating_add(secs);
        let issuer_end = self
            .issuing
            .cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs();
        if u64::try_from(not_after).map_or(true, |t| t > issuer_end) {
            return Err(CaError::BadValidity("would outlive the issuing CA"));
        }
        let key = tokio::task::spawn_blocking(move || CitizenKey::generate(key_alg))
            .await
            .map_err(|e| CaError::Build(format!("key generation task failed: {e}")))??;
        let (serial, serial_hex) = profile::random_serial()?;
        let cert = profile::citizen_cert(
            &self.settings,
            &self.issuing,
            CitizenTbs {
                subject,
                spki: key.spki()?,
                serial,
                not_before: now,
                not_after,
            },
        )?;
        let der = cert.to_der()?;
        let enc = self.kek.encrypt(&aad(&serial_hex), &key.to_pkcs8()?);
        sqlx::query(
            "INSERT INTO ca_citizen_certs (serial, account_id, key_alg, private_key, cert_der, \
             not_before, not_after, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'valid', $8)",
        )
        .bind(&serial_hex)
        .bind(account_id)
        .bind(key_alg.as_str())
        .bind(enc)
        .bind(der.clone())
        .bind(now)
        .bind(not_after)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(CitizenCert {
            serial: serial_hex,
            account_id: account_id.to_owned(),
            key_alg,
            der,
            not_before: now,
            not_after,
            status: CertStatus::Valid,
        })
    }

    /// The certificate with this serial (lower-case hex), if it is ours.
    pub async fn find(&self, serial: &str) -> Result<Option<CitizenCert>, CaError> {
        let q = format!("SELECT {COLUMNS} FROM ca_citizen_certs WHERE serial = $1");
        let row = sqlx::query(&q)
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_cert).transpose()
    }

    /// Every certificate issued to `account_id`, newest first.
    pub async fn list_for_account(&self, account_id: &str) -> Result<Vec<CitizenCert>, CaError> {
        let q = format!(
            "SELECT {COLUMNS} FROM ca_citizen_certs WHERE account_id = $1 \
             ORDER BY not_before DESC, serial"
        );
        let rows = sqlx::query(&q)
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_cert).collect()
    }

    /// The decrypted key of the certificate `serial`, for signing. Refused once the
    /// certificate is revoked.
    pub async fn citizen_key(&self, serial: &str) -> Result<CitizenKey, CaError> {
        let row = sqlx::query(
            "SELECT key_alg, private_key, status FROM ca_citizen_certs WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(CaError::UnknownSerial)?;
        let status: String = row.try_get("status")?;
        if status != "valid" {
            return Err(CaError::Revoked);
        }
        let alg: String = row.try_get("key_alg")?;
        let enc: Vec<u8> = row.try_get("private_key")?;
        let pkcs8 = zeroize::Zeroizing::new(self.kek.decrypt(&aad(serial), &enc)?);
        CitizenKey::from_pkcs8(alg.parse()?, &pkcs8)
    }

    /// Revokes `serial` as of `at` (unix seconds, not in the future: a CRL states what has
    /// happened). `Ok(false)` when it was revoked already.
    pub async fn revoke(&self, serial: &str, reason: CrlReason, at: i64) -> Result<bool, CaError> {
        if reason == CrlReason::RemoveFromCRL {
            return Err(CaError::BadReason);
        }
        if !(0..=self.clock.now()).contains(&at) {
            return Err(CaError::BadValidity(
                "revocation time before 1970 or in the future",
            ));
        }
        let done = sqlx::query(
            "UPDATE ca_citizen_certs SET status = 'revoked', revoked_at = $1, \
             revocation_reason = $2 WHERE serial = $3 AND status = 'valid'",
        )
        .bind(at)
        .bind(reason as i64)
        .bind(serial)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 0 && self.find(serial).await?.is_none() {
            return Err(CaError::UnknownSerial);
        }
        Ok(done > 0)
    }

    /// Revokes every unrevoked certificate of `account_id` now (the account's level was
    /// lowered, or it was locked). Returns how many were revoked.
    pub async fn revoke_all_for_account(
        &self,
        account_id: &str,
        reason: CrlReason,
    ) -> Result<u64, CaError> {
        if reason == CrlReason::RemoveFromCRL {
            return Err(CaError::BadReason);
        }
        Ok(sqlx::query(
            "UPDATE ca_citizen_certs SET status = 'revoked', revoked_at = $1, \
             revocation_reason = $2 WHERE account_id = $3 AND status = 'valid'",
        )
        .bind(self.clock.now())
        .bind(reason as i64)
        .bind(account_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
