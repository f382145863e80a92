//! Revocation for validation: vhod's own certificates answered from its database, everyone
//! else's over the network.
//!
//! - a certificate issued by vhod's issuing CA: the citizen-certificate table (exact, no CRL
//!   delay); the CA's own TSA and OCSP responder certificates are good while the CA stands,
//!   as its OCSP responder says (RFC 6960 §2.2);
//! - the issuing CA itself (issued by vhod's root): good, the root revokes nothing;
//! - any other certificate: [`HttpRevocation`] (its CRL distribution point, else its OCSP
//!   responder).
//!
//! "Issued by vhod" means the issuer certificate the chain found is byte-for-byte vhod's, so
//! a foreign CA with the same name is never answered from our table.

use crate::trust::hex;
use crate::validate::{HttpRevocation, RevocationSource, RevocationStatus};
use der::Encode;
use keys::ca::{Ca, CertStatus};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;

/// vhod's CA first, the network for the rest.
pub struct CaRevocation {
    ca: Arc<Ca>,
    others: HttpRevocation,
}

impl std::fmt::Debug for CaRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaRevocation").finish_non_exhaustive()
    }
}

impl CaRevocation {
    /// Answers vhod's certificates from `ca`, others through `others`.
    pub fn new(ca: Arc<Ca>, others: HttpRevocation) -> Self {
        CaRevocation { ca, others }
    }

    async fn ours(&self, cert: &Certificate) -> RevocationStatus {
        let serial = hex(cert.tbs_certificate.serial_number.as_bytes());
        let der = cert.to_der().unwrap_or_default();
        if der == self.ca.tsa_der() || der == self.ca.ocsp_der() {
            return RevocationStatus::Good;
        }
        match self.ca.find(&serial).await {
            Ok(Some(c)) => match c.status {
                CertStatus::Valid => RevocationStatus::Good,
                CertStatus::Revoked { at, reason } => RevocationStatus::Revoked {
                    at: SystemTime::UNIX_EPOCH
                        + Duration::from_secs(u64::try_from(at).unwrap_or(0)),
                    reason: Some(format!("{reason:?}")),
                },
            },
            Ok(None) => RevocationStatus::Unknown {
                why: format!("vhod's CA has no record of serial {serial}"),
            },
            Err(e) => {
                tracing::error!(error = %e, "certificate status look-up failed");
                RevocationStatus::Unknown {
                    why: "vhod's certificate store did not answer".into(),
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl RevocationSource for CaRevocation {
    async fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> RevocationStatus {
        let issuer_der = issuer.to_der().unwrap_or_default();
        if issuer_der == self.ca.issuing_der() {
            return self.ours(cert).await;
        }
        if issuer_der == self.ca.root_der()
            && cert.to_der().unwrap_or_default() == self.ca.issuing_der()
        {
            return RevocationStatus::Good;
        }
        self.others.status(cert, issuer, now).await
    }
}
