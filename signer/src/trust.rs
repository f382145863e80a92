//! Trust anchors that validation accepts besides vhod's own root (`vhod signer trust ...`),
//! kept in `signer_trust_anchors`.
//!
//! Rules:
//! - a certificate is read from PEM (exactly one `CERTIFICATE` block) or DER; anything else is
//!   refused with a message saying what was found;
//! - only CA certificates are anchors (RFC 5280 §4.2.1.9 basicConstraints cA, and
//!   keyCertSign when keyUsage is present, §4.2.1.3): an end-entity certificate as an anchor
//!   would make its own signatures "trusted" without any chain;
//! - adding is idempotent by the SHA-256 fingerprint of the DER; vhod's own root is always
//!   trusted and is neither stored nor removable here;
//! - every change is an audit event.

use crate::Signer;
use der::{Decode, DecodePem, Encode};
use keys::audit::NewEvent;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

/// One trust anchor.
#[derive(Clone, Debug, Serialize)]
pub struct TrustAnchor {
    /// SHA-256 of the DER certificate, lower-case hex.
    pub fingerprint: String,
    /// The subject, RFC 4514.
    pub subject: String,
    /// notAfter, unix seconds.
    pub not_after: i64,
    /// When it was added (unix seconds); `None` for vhod's own root.
    pub added_at: Option<i64>,
    /// `vhod` for vhod's own root, `added` for one an operator added.
    pub source: &'static str,
    /// The certificate, DER.
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// Why a trust anchor could not be added or removed.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The bytes are not an X.509 certificate.
    #[error("not an X.509 certificate (PEM or DER): {0}")]
    NotACertificate(String),
    /// A PEM file with more than one certificate.
    #[error("the file holds {0} certificates; add them one at a time")]
    SeveralCertificates(usize),
    /// The certificate is not a CA certificate.
    #[error(
        "{subject} is not a CA certificate ({why}); only CA certificates can be trust anchors"
    )]
    NotCa {
        /// The certificate's subject.
        subject: String,
        /// What is missing.
        why: &'static str,
    },
    /// vhod's own root was named for removal.
    #[error("vhod's own root is always trusted and cannot be removed")]
    OwnRoot,
    /// A fingerprint that is not 64 hex digits.
    #[error("a fingerprint is the SHA-256 of the certificate: 64 hex digits (colons allowed)")]
    BadFingerprint,
    /// The store failed.
    #[error("the trust-anchor store failed: {0}")]
    Store(#[from] sqlx::Error),
    /// The audit trail refused the event.
    #[error("the audit trail failed: {0}")]
    Audit(String),
}

/// The trust-anchor store of one [`Signer`].
pub struct TrustAnchors<'a> {
    signer: &'a Signer,
}

impl Signer {
    /// The trust anchors validation uses besides vhod's root.
    pub fn trust_anchors(&self) -> TrustAnchors<'_> {
        TrustAnchors { signer: self }
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

/// One certificate from PEM or DER bytes.
fn parse(bytes: &[u8]) -> Result<Certificate, TrustError> {
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"-----BEGIN") {
        let count = text
            .windows(27)
            .filter(|w| *w == b"-----BEGIN CERTIFICATE-----")
            .count();
        if count > 1 {
            return Err(TrustError::SeveralCertificates(count));
        }
        return Certificate::from_pem(text).map_err(|e| TrustError::NotACertificate(e.to_string()));
    }
    Certificate::from_der(bytes).map_err(|e| TrustError::NotACertificate(e.to_string()))
}

/// Refuses certificates that cannot issue others.
fn check_ca(cert: &Certificate) -> Result<(), TrustError> {
    let subject = cert.tbs_certificate.subject.to_string();
    let not_ca = |why| TrustError::NotCa {
        subject: subject.clone(),
        why,
    };
    match cert.tbs_certificate.get::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {}
        Ok(Some(_)) => return Err(not_ca("basicConstraints says cA FALSE")),
        Ok(None) => return Err(not_ca("it has no basicConstraints extension")),
        Err(_) => return Err(not_ca("its basicConstraints extension is malformed")),
    }
    match cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.0.contains(KeyUsages::KeyCertSign) => {
            Err(not_ca("its keyUsage lacks keyCertSign"))
        }
        Err(_) => Err(not_ca("its keyUsage extension is malformed")),
        _ => Ok(()),
    }
}

/// "AB:cd:…" or "abcd…" to 64 lower-case hex digits.
fn normalise(fp: &str) -> Result<String, TrustError> {
    let hex: String = fp
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(TrustError::BadFingerprint)
    }
}

impl TrustAnchors<'_> {
    /// Adds the certificate in `bytes` (PEM or DER); `true` when it was new, `false` when it
    /// was there already (or is vhod's own root). `actor` goes into the audit event.
    pub async fn add(&self, bytes: &[u8], actor: &str) -> Result<(TrustAnchor, bool), TrustError> {
        let cert = parse(bytes)?;
        check_ca(&cert)?;
        let der = cert
            .to_der()
            .map_err(|e| TrustError::NotACertificate(e.to_string()))?;
        let own = self.own_root();
        if der == own.der {
            return Ok((own, false));
        }
        let tbs = &cert.tbs_certificate;
        let anchor = TrustAnchor {
            fingerprint: fingerprint(&der),
            subject: tbs.subject.to_string(),
            not_after: unix(&tbs.validity.not_after),
            added_at: Some(self.signer.clock.now()),
            source: "added",
            der,
        };
        let added = sqlx::query(
            "INSERT INTO signer_trust_anchors (fingerprint, subject, cert_der, not_after, added_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(&anchor.fingerprint)
        .bind(&anchor.subject)
        .bind(anchor.der.clone())
        .bind(anchor.not_after)
        .bind(anchor.added_at)
        .execute(&self.signer.pool)
        .await?
        .rows_affected()
            > 0;
        if !added {
            let stored = self.find(&anchor.fingerprint).await?;
            return Ok((stored.unwrap_or(anchor), false));
        }
        self.audit(actor, "trust_anchor.added", &anchor).await?;
        Ok((anchor, true))
    }

    /// vhod's root first, then the added anchors in the order they were added.
    pub async fn list(&self) -> Result<Vec<TrustAnchor>, TrustError> {
        let rows = sqlx::query(
            "SELECT fingerprint, subject, cert_der, not_after, added_at \
             FROM signer_trust_anchors ORDER BY added_at, fingerprint",
        )
        .fetch_all(&self.signer.pool)
        .await?;
        let mut out = vec![self.own_root()];
        for r in &rows {
            out.push(row_to_anchor(r)?);
        }
        Ok(out)
    }

    /// The DER certificates validation trusts: vhod's root and every added anchor.
    pub async fn ders(&self) -> Result<Vec<Vec<u8>>, TrustError> {
        Ok(self.list().await?.into_iter().map(|a| a.der).collect())
    }

    /// Removes the anchor with this fingerprint; `false` when there was none.
    pub async fn remove(&self, fp: &str, actor: &str) -> Result<bool, TrustError> {
        let fp = normalise(fp)?;
        if fp == self.own_root().fingerprint {
            return Err(TrustError::OwnRoot);
        }
        let Some(anchor) = self.find(&fp).await? else {
            return Ok(false);
        };
        let gone = sqlx::query("DELETE FROM signer_trust_anchors WHERE fingerprint = $1")
            .bind(&fp)
            .execute(&self.signer.pool)
            .await?
            .rows_affected()
            > 0;
        if gone {
            self.audit(actor, "trust_anchor.removed", &anchor).await?;
        }
        Ok(gone)
    }

    async fn find(&self, fp: &str) -> Result<Option<TrustAnchor>, TrustError> {
        let row = sqlx::query(
            "SELECT fingerprint, subject, cert_der, not_after, added_at \
             FROM signer_trust_anchors WHERE fingerprint = $1",
        )
        .bind(fp)
        .fetch_optional(&self.signer.pool)
        .await?;
        row.as_ref().map(row_to_anchor).transpose()
    }

    fn own_root(&self) -> TrustAnchor {
        let der = self.signer.ca.root_der().to_vec();
        let (subject, not_after) = match Certificate::from_der(&der) {
            Ok(c) => (
                c.tbs_certificate.subject.to_string(),
                unix(&c.tbs_certificate.validity.not_after),
            ),
            Err(_) => (String::new(), 0),
        };
        TrustAnchor {
            fingerprint: fingerprint(&der),
            subject,
            not_after,
            added_at: None,
            source: "vhod",
            der,
        }
    }

    async fn audit(&self, actor: &str, action: &str, a: &TrustAnchor) -> Result<(), TrustError> {
        self.signer
            .audit
            .append(NewEvent {
                actor,
                action,
                subject: Some(&a.fingerprint),
                details: serde_json::json!({ "subject": a.subject, "not_after": a.not_after }),
            })
            .await
            .map(|_| ())
            .map_err(|e| TrustError::Audit(e.to_string()))
    }
}

fn row_to_anchor(r: &sqlx::any::AnyRow) -> Result<TrustAnchor, TrustError> {
    Ok(TrustAnchor {
        fingerprint: r.try_get("fingerprint")?,
        subject: r.try_get("subject")?,
        der: r.try_get("cert_der")?,
        not_after: r.try_get("not_after")?,
        added_at: Some(r.try_get("added_at")?),
        source: "added",
    })
}

fn unix(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn fingerprints_are_read_with_or_without_colons() {
        let fp = "AB".repeat(32);
        assert_eq!(normalise(&fp).unwrap(), "ab".repeat(32));
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(normalise(&colons).unwrap(), "ab".repeat(32));
        assert!(normalise("abc").is_err());
        assert!(normalise(&"zz".repeat(32)).is_err());
    }
}
