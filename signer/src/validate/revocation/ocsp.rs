//! OCSP (RFC 6960): the responders a certificate names, the request for one certificate, and
//! the checks on the answer: a successful basic response signed by the issuer or by a
//! responder certificate the issuer delegated (id-kp-OCSPSigning, §4.2.2.2), about this very
//! certificate (CertID), current at the validation time.

use super::RevocationStatus;
use crate::validate::crypto::{self, AlgorithmConstraints};
use const_oid::db::rfc5280::ID_AD_OCSP;
use const_oid::db::rfc5912::ID_KP_OCSP_SIGNING;
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, ExtendedKeyUsage};
use x509_cert::Certificate;
use x509_ocsp::builder::OcspRequestBuilder;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, Request, ResponderId,
};

/// The `http://` OCSP responders in `cert`'s Authority Information Access (RFC 5280 §4.2.2.1).
pub(crate) fn responders(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, aia))) = cert.tbs_certificate.get::<AuthorityInfoAccessSyntax>() else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|ad| ad.access_method == ID_AD_OCSP)
        .filter_map(|ad| match &ad.access_location {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// The DER request for `cert` (CertID with SHA-1, as RFC 5019 §2.1.1 has lightweight
/// responders expect).
pub(crate) fn request(cert: &Certificate, issuer: &Certificate) -> Result<Vec<u8>, String> {
    let req = Request::from_cert::<sha1::Sha1>(issuer, cert).map_err(|e| e.to_string())?;
    OcspRequestBuilder::default()
        .with_request(req)
        .build()
        .to_der()
        .map_err(|e| e.to_string())
}

/// Reads and checks an OCSP answer about `cert`.
pub(crate) fn status_from_response(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    now: SystemTime,
) -> Result<RevocationStatus, String> {
    let response =
        OcspResponse::from_der(der).map_err(|e| format!("malformed OCSP answer: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the OCSP responder answered {:?}",
            response.response_status
        ));
    }
    let bytes = response.response_bytes.ok_or("the OCSP answer is empty")?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| format!("malformed OCSP basic response: {e}"))?;
    let signer = responder_key_holder(&basic, issuer)?;
    let tbs_der = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| e.to_string())?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or("malformed OCSP signature")?;
    crypto::verify(
        &signer.tbs_certificate.subject_public_key_info,
        &basic.signature_algorithm,
        None,
        &tbs_der,
        signature,
        &AlgorithmConstraints::default(),
    )
    .map_err(|_| "the OCSP answer's signature does not verify".to_owned())?;
    let expected = Request::from_cert::<sha1::Sha1>(issuer, cert)
        .map_err(|e| e.to_string())?
        .req_cert;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == expected)
        .ok_or("the OCSP answer is about another certificate")?;
    let fresh = single
        .next_update
        .is_none_or(|next| next.0.to_system_time() >= now);
    if single.this_update.0.to_system_time() > now + super::CLOCK_SKEW || !fresh {
        return Err("the OCSP answer is not current at the validation time".into());
    }
    Ok(match &single.cert_status {
        CertStatus::Good(_) => RevocationStatus::Good,
        CertStatus::Revoked(info) => RevocationStatus::Revoked {
            at: info.revocation_time.0.to_system_time(),
            reason: info.revocation_reason.map(|r| format!("{r:?}")),
        },
        CertStatus::Unknown(_) => RevocationStatus::Unknown {
            why: "the OCSP responder does not know this certificate".into(),
        },
    })
}

/// The certificate whose key signed the answer: the issuer itself, or a responder certificate
/// in the answer that the issuer signed and gave id-kp-OCSPSigning.
fn responder_key_holder<'a>(
    basic: &'a BasicOcspResponse,
    issuer: &'a Certificate,
) -> Result<&'a Certificate, String> {
    let names = |c: &Certificate| match &basic.tbs_response_data.responder_id {
        ResponderId::ByName(name) => *name == c.tbs_certificate.subject,
        ResponderId::ByKey(hash) => {
            let key = c
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key).as_ref()
                == hash.as_bytes()
        }
    };
    if names(issuer) {
        return Ok(issuer);
    }
    for delegate in basic.certs.iter().flatten().filter(|c| names(c)) {
        let delegated = matches!(
            delegate.tbs_certificate.get::<ExtendedKeyUsage>(),
            Ok(Some((_, eku))) if eku.0.contains(&ID_KP_OCSP_SIGNING)
        );
        if delegated && crate::validate::chain::issued_by(delegate, issuer) {
            return Ok(delegate);
        }
    }
    Err("the OCSP answer is signed by neither the issuer nor a responder it delegated".into())
}
