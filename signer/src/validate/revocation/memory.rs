//! Revocation answers the caller already holds: CRLs (verified against the issuer when first
//! asked, the verified list kept while its bytes and the issuer's key are the same) and
//! explicit statuses by issuer and serial number. Of several CRLs of one issuer, the newest
//! issued by the validation time answers.

use super::crl::{CrlCache, VerifiedCrl};
use super::{RevocationSource, RevocationStatus};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
use x509_cert::Certificate;

/// CRLs and statuses held in memory. An explicit status wins over the CRLs. Clones share the
/// verified CRLs.
#[derive(Clone, Debug, Default)]
pub struct MemoryRevocation {
    crls: Vec<Vec<u8>>,
    statuses: HashMap<(String, Vec<u8>), RevocationStatus>,
    verified: Arc<CrlCache>,
}

impl MemoryRevocation {
    /// An empty source: every answer is Unknown until CRLs or statuses are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a DER CRL; it is used for certificates of the issuer that signed it.
    pub fn add_crl(&mut self, der: Vec<u8>) -> &mut Self {
        self.crls.push(der);
        self
    }

    /// Sets the status of the certificate `serial` (big-endian bytes, as in the certificate)
    /// issued by the CA whose subject is `issuer`.
    pub fn set_status(
        &mut self,
        issuer: &x509_cert::name::Name,
        serial: &[u8],
        status: RevocationStatus,
    ) -> &mut Self {
        self.statuses
            .insert((issuer.to_string(), serial.to_vec()), status);
        self
    }
}

#[async_trait::async_trait]
impl RevocationSource for MemoryRevocation {
    async fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> RevocationStatus {
        let tbs = &cert.tbs_certificate;
        let key = (
            tbs.issuer.to_string(),
            tbs.serial_number.as_bytes().to_vec(),
        );
        if let Some(status) = self.statuses.get(&key) {
            return status.clone();
        }
        let mut why = "no CRL of this issuer is held".to_owned();
        let mut newest: Option<Arc<VerifiedCrl>> = None;
        for der in &self.crls {
            match self.verified.verify(der, issuer) {
                // Issued by the validation time and newer than the best so far; else kept
                // only while nothing better is found (it then says it is too new).
                Ok(list) => {
                    let better = match &newest {
                        None => true,
                        Some(best) => {
                            let usable = |c: &VerifiedCrl| c.this_update() <= now;
                            usable(&list)
                                && (!usable(best) || list.this_update() > best.this_update())
                        }
                    };
                    if better {
                        newest = Some(list);
                    }
                }
                Err(e) => why = e,
            }
        }
        match newest {
            Some(list) => list.status_of(cert, now),
            None => RevocationStatus::Unknown { why },
        }
    }
}
