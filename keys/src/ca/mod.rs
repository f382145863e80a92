//! The signer's certificate authority: a root, an issuing CA, a time-stamping authority and
//! an OCSP responder, created on first start and loaded on every later one.
//!
//! - RFC 5280 §4 (certificates) and §5 (CRLs), in [`profile`] and [`crl`];
//! - RFC 6960 (OCSP), answered by a delegated responder certificate carrying
//!   id-kp-OCSPSigning and id-pkix-ocsp-nocheck (§4.2.2.2), in [`ocsp`] — so the issuing
//!   CA's key signs only certificates and CRLs;
//! - RFC 3161 + RFC 5816 (time stamps), in [`tsa`];
//! - citizen certificates of the Russian profile (Приказ ФСБ № 795), in [`citizen`] and
//!   [`subject`].
//!
//! Every private key is PKCS#8 encrypted under the KEK (AES-256-GCM) in the database; none is
//! ever logged (`Debug` redacts). This is a library: the HTTP endpoints that publish the CRL,
//! answer OCSP and time-stamp requests live in the crates that serve HTTP.

use crate::store::Backend;
use crate::{Clock, Kek};
use der::Encode;
use sqlx::AnyPool;
use std::sync::{Arc, Mutex};
use x509_cert::Certificate;

mod citizen;
mod citizen_key;
mod crl;
mod error;
mod ocsp;
mod profile;
mod store;
mod subject;
mod tsa;

pub use citizen::{CertStatus, CitizenCert};
pub use citizen_key::{CitizenKey, CitizenPublicKey, CitizenSignature, KeyAlg};
pub use error::CaError;
pub use subject::{CitizenSubject, Inn, Snils};
pub use tsa::TsaFailure;
pub use x509_cert::ext::pkix::CrlReason;

/// One year in seconds (365 days).
pub const YEAR: i64 = 365 * 86400;

/// How the CA names itself, where it publishes, and how long things live.
#[derive(Clone, Debug)]
pub struct CaSettings {
    /// Base URL the CA's files are published under, without a trailing slash: the CRL at
    /// `{base}/crl`, OCSP at `{base}/ocsp`, the issuing CA certificate at `{base}/issuing.crt`.
    pub base_url: String,
    /// The organisation (O) in the CA's names.
    pub organization: String,
    /// Lifetime of the root certificate, seconds.
    pub root_validity_secs: i64,
    /// Lifetime of the issuing CA certificate, seconds.
    pub issuing_validity_secs: i64,
    /// Lifetime of the TSA and OCSP responder certificates, seconds.
    pub service_validity_secs: i64,
    /// Default lifetime of a citizen certificate, seconds (one year).
    pub citizen_validity_secs: i64,
    /// nextUpdate − thisUpdate of a CRL and of an OCSP answer, seconds.
    pub crl_next_update_secs: i64,
    /// A cached CRL is signed anew after this many seconds even if nothing was revoked.
    pub crl_refresh_secs: i64,
    /// The TSA policy OID put in every TSTInfo (RFC 3161 §2.4.2). The default is a placeholder
    /// under the reserved private enterprise number 0; an operator sets their own.
    pub tsa_policy: String,
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings {
            base_url: "http://localhost:8080/ca".into(),
            organization: "vhod".into(),
            root_validity_secs: 20 * YEAR,
            issuing_validity_secs: 10 * YEAR,
            service_validity_secs: 5 * YEAR,
            citizen_validity_secs: YEAR,
            crl_next_update_secs: 86400,
            crl_refresh_secs: 3600,
            tsa_policy: "1.3.6.1.4.1.0.3161.1".into(),
        }
    }
}

impl CaSettings {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }
}

/// The four authorities, in the order they are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The self-signed root.
    Root,
    /// The CA that issues citizen, TSA and OCSP certificates and signs the CRL.
    Issuing,
    /// The time-stamping authority.
    Tsa,
    /// The delegated OCSP responder.
    Ocsp,
}

impl Role {
    pub(crate) const ALL: [Role; 4] = [Role::Root, Role::Issuing, Role::Tsa, Role::Ocsp];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Issuing => "issuing",
            Role::Tsa => "tsa",
            Role::Ocsp => "ocsp",
        }
    }
}

/// A certificate with its private key.
pub(crate) struct Authority {
    pub(crate) cert: Certificate,
    pub(crate) der: Vec<u8>,
    pub(crate) key: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("subject", &self.cert.tbs_certificate.subject.to_string())
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Authority {
    pub(crate) fn new(cert: Certificate, key: p256::ecdsa::SigningKey) -> Result<Self, CaError> {
        let der = cert.to_der()?;
        Ok(Authority { cert, der, key })
    }
}

/// The certificate authority. Cheap to share behind an `Arc`.
pub struct Ca {
    pool: AnyPool,
    kek: Kek,
    clock: Arc<dyn Clock>,
    settings: CaSettings,
    root: Authority,
    issuing: Authority,
    tsa: Authority,
    ocsp: Authority,
    crl_cache: Mutex<Option<crl::Cached>>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("root", &self.root)
            .field("issuing", &self.issuing)
            .field("tsa", &self.tsa)
            .field("ocsp", &self.ocsp)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Loads the CA, creating the root, issuing CA, TSA and OCSP responder on first start.
    /// Runs this crate's migrations. Two nodes starting at once converge on one hierarchy:
    /// the one whose transaction commits first; the other loads it.
    pub async fn ensure(
        pool: AnyPool,
        backend: Backend,
        kek: Kek,
        clock: Arc<dyn Clock>,
        settings: CaSettings,
    ) -> Result<Ca, CaError> {
        crate::store::migrate(&pool, backend).await?;
        profile::check_settings(&settings)?;
        let loaded = match store::load_authorities(&pool, &kek).await? {
            Some(a) => a,
            None => {
                let made = profile::make_hierarchy(&settings, clock.now())?;
                match store::insert_authorities(&pool, &kek, &made, clock.now()).await {
                    Ok(()) => made,
                    Err(e) => {
                        tracing::info!("another node created the CA first ({e}); loading it");
                        store::load_authorities(&pool, &kek)
                            .await?
                            .ok_or_else(|| CaError::Corrupt(format!("CA creation failed: {e}")))?
                    }
                }
            }
        };
        let [root, issuing, tsa, ocsp] = loaded;
        Ok(Ca {
            pool,
            kek,
            clock,
            settings,
            root,
            issuing,
            tsa,
            ocsp,
            crl_cache: Mutex::new(None),
        })
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root.der
    }

    /// The issuing CA certificate, DER (published at `{base}/issuing.crt`).
    pub fn issuing_der(&self) -> &[u8] {
        &self.issuing.der
    }

    /// The TSA certificate, DER.
    pub fn tsa_der(&self) -> &[u8] {
        &self.tsa.der
    }

    /// The OCSP responder certificate, DER.
    pub fn ocsp_der(&self) -> &[u8] {
        &self.ocsp.der
    }

    /// The settings in force.
    pub fn settings(&self) -> &CaSettings {
        &self.settings
    }
}

/// PEM of a DER certificate, for files and tests.
pub fn cert_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests;
