//! The OCSP responder (RFC 6960) for certificates of the issuing CA.
//!
//! - §4.1.1: the request is parsed; garbage, an empty or oversized request list gives
//!   `malformedRequest` (§2.3), never an error of ours;
//! - §4.1.1 CertID: issuer name and key hashes with SHA-1 or SHA-256; any other issuer (or
//!   hash) gives `unauthorized` (§2.3), since we are authoritative for no one else;
//! - §2.2: `good` for a certificate we issued and did not revoke, `revoked` with time and
//!   reason, `unknown` for a serial we never issued;
//! - §4.2.2.2: signed by a delegated responder certificate (id-kp-OCSPSigning, issued by
//!   the issuing CA, with id-pkix-ocsp-nocheck), included in `certs`;
//! - RFC 8954 §2.1: a nonce of 1 to 32 octets is echoed; a longer one is `malformedRequest`.

use super::citizen::CertStatus as Stored;
use super::profile::{gtime, hex};
use super::{Ca, CaError};
use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256};
use der::{Decode, Encode};
use sha2::Digest;
use x509_ocsp::builder::OcspResponseBuilder;
use x509_ocsp::{
    CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, RevokedInfo, SingleResponse,
};

/// The most CertIDs answered in one request.
const MAX_REQUESTS: usize = 32;
/// RFC 8954 §2.1: the longest nonce accepted.
const MAX_NONCE: usize = 32;

enum Refusal {
    Malformed,
    Unauthorized,
}

impl Ca {
    /// Answers a DER OCSPRequest with a DER OCSPResponse. Never fails: a request we cannot
    /// parse or serve gets the matching unsuccessful status, and a fault of ours
    /// `internalError` (logged).
    pub async fn ocsp_respond(&self, request_der: &[u8]) -> Vec<u8> {
        let resp = match self.ocsp_answer(request_der).await {
            Ok(Ok(r)) => r,
            Ok(Err(Refusal::Malformed)) => OcspResponse::malformed_request(),
            Ok(Err(Refusal::Unauthorized)) => OcspResponse::unauthorized(),
            Err(e) => {
                tracing::error!("OCSP response failed: {e}");
                OcspResponse::internal_error()
            }
        };
        // An unsuccessful response is a one-byte ENUMERATED in a SEQUENCE: it encodes.
        resp.to_der().unwrap_or_default()
    }

    async fn ocsp_answer(&self, der: &[u8]) -> Result<Result<OcspResponse, Refusal>, CaError> {
        let Ok(req) = OcspRequest::from_der(der) else {
            return Ok(Err(Refusal::Malformed));
        };
        let list = &req.tbs_request.request_list;
        if list.is_empty() || list.len() > MAX_REQUESTS {
            return Ok(Err(Refusal::Malformed));
        }
        let nonce = req.nonce();
        if nonce
            .as_ref()
            .is_some_and(|n| n.0.as_bytes().is_empty() || n.0.as_bytes().len() > MAX_NONCE)
        {
            return Ok(Err(Refusal::Malformed));
        }
        let now = self.clock.now();
        let this_update = OcspGeneralizedTime(gtime(now)?);
        let next_update = OcspGeneralizedTime(gtime(now + self.settings.crl_next_update_secs)?);
        let mut builder = OcspResponseBuilder::new(self.ocsp.cert.tbs_certificate.subject.clone());
        for r in list {
            if !self.is_our_issuer(&r.req_cert)? {
                return Ok(Err(Refusal::Unauthorized));
            }
            let serial = hex(r.req_cert.serial_number.as_bytes());
            // The CA's own service certificates (TSA, OCSP responder) are not in the citizen
            // table; they are good while the CA stands (it never revokes them on its own).
            let service = [&self.tsa, &self.ocsp]
                .iter()
                .any(|a| hex(a.cert.tbs_certificate.serial_number.as_bytes()) == serial);
            let found = if service {
                Some(Stored::Valid)
            } else {
                self.find(&serial).await?.map(|c| c.status)
            };
            let status = match found {
                None => CertStatus::unknown(),
                Some(Stored::Valid) => CertStatus::good(),
                Some(Stored::Revoked { at, reason }) => CertStatus::revoked(RevokedInfo {
                    revocation_time: OcspGeneralizedTime(gtime(at)?),
                    revocation_reason: Some(reason),
                }),
            };
            builder = builder.with_single_response(SingleResponse {
                cert_id: r.req_cert.clone(),
                cert_status: status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        if let Some(n) = nonce {
            builder = builder
                .with_extension(n)
                .map_err(|e| CaError::Build(e.to_string()))?;
        }
        let mut key = self.ocsp.key.clone();
        let resp = builder
            .sign::<_, ecdsa::der::Signature<p256::NistP256>>(
                &mut key,
                Some(vec![self.ocsp.cert.clone()]),
                this_update,
            )
            .map_err(|e| CaError::Build(e.to_string()))?;
        Ok(Ok(resp))
    }

    /// Whether `id` names the issuing CA, by name and key hash (RFC 6960 §4.1.1).
    fn is_our_issuer(&self, id: &CertId) -> Result<bool, CaError> {
        let tbs = &self.issuing.cert.tbs_certificate;
        let name = tbs.subject.to_der()?;
        let key = tbs.subject_public_key_info.subject_public_key.raw_bytes();
        let (n, k) = match id.hash_algorithm.oid {
            o if o == ID_SHA_1 => (
                sha1::Sha1::digest(&name).to_vec(),
                sha1::Sha1::digest(key).to_vec(),
            ),
            o if o == ID_SHA_256 => (
                sha2::Sha256::digest(&name).to_vec(),
                sha2::Sha256::digest(key).to_vec(),
            ),
            _ => return Ok(false),
        };
        Ok(id.issuer_name_hash.as_bytes() == n && id.issuer_key_hash.as_bytes() == k)
    }
}
