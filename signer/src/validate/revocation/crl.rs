//! CRLs (RFC 5280 §5): where a certificate says they are, checking one against its issuer,
//! and looking a serial number up in it.

use super::RevocationStatus;
use crate::validate::crypto::{self, AlgorithmConstraints};
use const_oid::AssociatedOid;
use der::{Decode, Encode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{CrlDistributionPoints, CrlReason};
use x509_cert::Certificate;

/// The `http://` URLs of `cert`'s CRL distribution points (§4.2.1.13).
pub(crate) fn distribution_points(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, points))) = cert.tbs_certificate.get::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// A CRL whose signature was checked against its issuer.
#[derive(Clone, Debug)]
pub(crate) struct VerifiedCrl {
    pub list: CertificateList,
}

/// Why a CRL cannot be used.
pub(crate) fn verify(der: &[u8], issuer: &Certificate) -> Result<VerifiedCrl, String> {
    let (tbs_der, list) = parse(der).map_err(|e| format!("the CRL is malformed: {e}"))?;
    let tbs = &list.tbs_cert_list;
    if tbs.issuer != issuer.tbs_certificate.subject {
        return Err("the CRL was issued by another CA".into());
    }
    let signature = list.signature.as_bytes();
    let constraints = AlgorithmConstraints::default();
    if !crypto::signed_by(
        issuer,
        &list.signature_algorithm,
        &tbs_der,
        signature,
        &constraints,
    ) {
        return Err("the CRL signature does not verify with the issuer's key".into());
    }
    Ok(VerifiedCrl { list })
}

/// The CRL's tbsCertList as signed (DER), and the CRL parsed.
///
/// RFC 5280 §5.1.2.1 has a v1 CRL omit its version (a CA that revokes nothing yet and puts
/// no extension in its CRL issues one: `openssl ca -gencrl` does), but x509-cert 0.2's
/// `TbsCertList` requires the field: for such a CRL the parse is given a copy with the
/// version (v1) written in. The signature is checked over the bytes as they were signed,
/// never over a re-encoding.
fn parse(der: &[u8]) -> der::Result<(Vec<u8>, CertificateList)> {
    use der::asn1::AnyRef;
    use der::{Reader, SliceReader, Tag};
    let mut reader = SliceReader::new(der)?;
    let (tbs, algorithm, signature) =
        reader.sequence(|r| Ok((AnyRef::decode(r)?, AnyRef::decode(r)?, AnyRef::decode(r)?)))?;
    reader.finish(())?;
    der::Tagged::tag(&tbs).assert_eq(Tag::Sequence)?;
    let tbs_der = tbs.to_der()?;
    let first = SliceReader::new(tbs.value())?.peek_tag()?;
    if first == Tag::Integer {
        return Ok((tbs_der, CertificateList::from_der(der)?));
    }
    // INTEGER 0: v1.
    let versioned = [&[0x02, 0x01, 0x00][..], tbs.value()].concat();
    let parts = [
        AnyRef::new(Tag::Sequence, &versioned)?.to_der()?,
        algorithm.to_der()?,
        signature.to_der()?,
    ]
    .concat();
    let list = CertificateList::from_der(&AnyRef::new(Tag::Sequence, &parts)?.to_der()?)?;
    Ok((tbs_der, list))
}

/// How many verified CRLs a [`CrlCache`] holds before it is cleared.
const MAX_CRLS: usize = 256;

/// CRLs whose signature already verified, keyed by SHA-256 of the CRL's DER and of the
/// issuer's public key: a CRL changed by one byte, or one checked against another key, is
/// verified afresh. The entry is the parsed list only; thisUpdate and nextUpdate are judged
/// at each use, against that validation's time. A CRL that failed is never kept.
#[derive(Debug, Default)]
pub(crate) struct CrlCache {
    verified: Mutex<HashMap<[u8; 32], Arc<VerifiedCrl>>>,
}

impl CrlCache {
    /// [`verify`], or the list verified before from the same bytes with the same key.
    pub(crate) fn verify(
        &self,
        der: &[u8],
        issuer: &Certificate,
    ) -> Result<Arc<VerifiedCrl>, String> {
        let key = cache_key(der, issuer)?;
        let hit = self.verified.lock().ok().and_then(|m| m.get(&key).cloned());
        if let Some(crl) = hit {
            if crl.list.tbs_cert_list.issuer == issuer.tbs_certificate.subject {
                return Ok(crl);
            }
        }
        let crl = Arc::new(verify(der, issuer)?);
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_CRLS {
                verified.clear();
            }
            verified.insert(key, crl.clone());
        }
        Ok(crl)
    }
}

fn cache_key(der: &[u8], issuer: &Certificate) -> Result<[u8; 32], String> {
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("the issuer's key is malformed: {e}"))?;
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(&(der.len() as u64).to_be_bytes());
    h.update(der);
    h.update(&spki);
    let mut key = [0u8; 32];
    key.copy_from_slice(h.finish().as_ref());
    Ok(key)
}

impl VerifiedCrl {
    /// When the CRL says it was issued.
    pub(crate) fn this_update(&self) -> SystemTime {
        self.list.tbs_cert_list.this_update.to_system_time()
    }

    /// When the CRL says the next one is due.
    pub(crate) fn next_update(&self) -> Option<SystemTime> {
        self.list
            .tbs_cert_list
            .next_update
            .map(|t| t.to_system_time())
    }

    /// The status of `cert` according to this CRL, at `now`. A CRL issued more than
    /// [`super::CLOCK_SKEW`] after `now` cannot speak for that time.
    pub(crate) fn status_of(&self, cert: &Certificate, now: SystemTime) -> RevocationStatus {
        let tbs = &self.list.tbs_cert_list;
        if tbs.this_update.to_system_time() > now + super::CLOCK_SKEW {
            return RevocationStatus::Unknown {
                why: "the CRL was issued after the validation time".into(),
            };
        }
        let serial = &cert.tbs_certificate.serial_number;
        let entry = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|entry| &entry.serial_number == serial);
        match entry {
            Some(entry) => {
                let reason = entry
                    .crl_entry_extensions
                    .iter()
                    .flatten()
                    .find(|ext| ext.extn_id == CrlReason::OID)
                    .and_then(|ext| CrlReason::from_der(ext.extn_value.as_bytes()).ok())
                    .map(|r| format!("{r:?}"));
                RevocationStatus::Revoked {
                    at: entry.revocation_date.to_system_time(),
                    reason,
                }
            }
            None => RevocationStatus::Good,
        }
    }
}
