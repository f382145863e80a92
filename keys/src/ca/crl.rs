//! The certificate revocation list (RFC 5280 §5), signed by the issuing CA.
//!
//! - §5.1.2.4–5: thisUpdate is now, nextUpdate `crl_next_update_secs` later;
//! - §5.2.1, §5.2.3: authorityKeyIdentifier and a cRLNumber that only grows, drawn from a
//!   counter in the database so every node's CRLs are ordered;
//! - §5.3.1: each entry carries its reason code, except `unspecified`, which is left out;
//! - entries of expired certificates are dropped (§3.3 allows it).
//!
//! The signed CRL is cached and signed anew when a revocation was added (revocations only
//! accumulate, so their count tells) or after `crl_refresh_secs`.

use super::profile::time;
use super::{Ca, CaError};
use const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
use der::asn1::{BitString, Uint};
use der::{Decode, Encode};
use signature::Signer;
use sqlx::Row;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason, SubjectKeyIdentifier};
use x509_cert::ext::AsExtension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Version;

/// A signed CRL and what it was made from.
pub(super) struct Cached {
    der: Vec<u8>,
    this_update: i64,
    revoked_count: i64,
}

/// The keyIdentifier of a certificate's subjectKeyIdentifier, for an AKI pointing at it.
pub(super) fn key_id(cert: &x509_cert::Certificate) -> Result<AuthorityKeyIdentifier, CaError> {
    let ext = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)
        .ok_or_else(|| CaError::Corrupt("issuing CA has no subjectKeyIdentifier".into()))?;
    let ski = SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes())?;
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(ski.0),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

/// Lower-case hex back to a serial number.
pub(super) fn serial_from_hex(s: &str) -> Result<SerialNumber, CaError> {
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| CaError::Corrupt(format!("serial {s} is not hex")))?;
    Ok(SerialNumber::new(&bytes)?)
}

impl Ca {
    /// The current CRL, DER (served at `{base}/crl` as `application/pkix-crl`).
    pub async fn crl_der(&self) -> Result<Vec<u8>, CaError> {
        let now = self.clock.now();
        let count: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM ca_citizen_certs WHERE status = 'revoked'")
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
        if let Some(der) = self.cached_crl(now, count) {
            return Ok(der);
        }
        let der = self.sign_crl(now).await?;
        let mut cache = match self.crl_cache.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *cache = Some(Cached {
            der: der.clone(),
            this_update: now,
            revoked_count: count,
        });
        Ok(der)
    }

    fn cached_crl(&self, now: i64, count: i64) -> Option<Vec<u8>> {
        let cache = match self.crl_cache.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        cache
            .as_ref()
            .filter(|c| {
                c.revoked_count == count
                    && now >= c.this_update
                    && now < c.this_update + self.settings.crl_refresh_secs
            })
            .map(|c| c.der.clone())
    }

    async fn sign_crl(&self, now: i64) -> Result<Vec<u8>, CaError> {
        let rows = sqlx::query(
            "SELECT serial, revoked_at, revocation_reason FROM ca_citizen_certs \
             WHERE status = 'revoked' AND not_after >= $1 ORDER BY revoked_at, serial",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let issuer: &Name = &self.issuing.cert.tbs_certificate.subject;
        let mut revoked = Vec::with_capacity(rows.len());
        for r in &rows {
            let serial: String = r.try_get("serial")?;
            let at: i64 = r.try_get("revoked_at")?;
            let code: i64 = r.try_get("revocation_reason")?;
            let reason = super::citizen::reason_from_code(code)
                .ok_or_else(|| CaError::Corrupt(format!("reason {code} of {serial}")))?;
            let entry_ext = match reason {
                CrlReason::Unspecified => None,
                r => Some(vec![r.to_extension(issuer, &[])?]),
            };
            revoked.push(RevokedCert {
                serial_number: serial_from_hex(&serial)?,
                revocation_date: time(at)?,
                crl_entry_extensions: entry_ext,
            });
        }
        let number = super::store::next_counter(&self.pool, "crl_number").await?;
        let crl_number = CrlNumber(Uint::new(&number.to_be_bytes())?);
        let tbs = TbsCertList {
            version: Version::V2,
            signature: spki::DynSignatureAlgorithmIdentifier::signature_algorithm_identifier(
                &self.issuing.key,
            )
            .map_err(|e| CaError::Build(e.to_string()))?,
            issuer: issuer.clone(),
            this_update: time(now)?,
            next_update: Some(time(now + self.settings.crl_next_update_secs)?),
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(vec![
                key_id(&self.issuing.cert)?.to_extension(issuer, &[])?,
                crl_number.to_extension(issuer, &[])?,
            ]),
        };
        let sig: ecdsa::der::Signature<p256::NistP256> = self
            .issuing
            .key
            .try_sign(&tbs.to_der()?)
            .map_err(|e| CaError::Build(e.to_string()))?;
        let list = CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: BitString::from_bytes(sig.as_bytes())?,
        };
        Ok(list.to_der()?)
    }
}
