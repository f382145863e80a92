//! vhod's own TSA as a [`TimestampSource`] for B-T signatures: builds a TimeStampReq (RFC 3161
//! §2.4.1) for the digest, has [`keys::ca::Ca::timestamp`] answer it in-process and takes the
//! token out of the TimeStampResp (§2.4.2).

use crate::{TimestampError, TimestampSource};
use const_oid::db::rfc5912::ID_SHA_256;
use der::{Decode, Encode};
use keys::ca::Ca;
use std::sync::Arc;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

/// The CA's TSA, used from a blocking thread (signing runs in `spawn_blocking`).
pub(crate) struct CaTsa {
    pub ca: Arc<Ca>,
    pub rt: tokio::runtime::Handle,
}

fn source(msg: impl Into<String>) -> TimestampError {
    TimestampError::Source(msg.into().into())
}

impl TimestampSource for CaTsa {
    fn timestamp(&self, sha256_digest: &[u8]) -> Result<Vec<u8>, TimestampError> {
        let mut nonce = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let req = request(sha256_digest, nonce)?;
        let ca = self.ca.clone();
        let resp_der = self.rt.block_on(async move { ca.timestamp(&req).await });
        let resp = TimeStampResp::from_der(&resp_der)?;
        let token = resp
            .time_stamp_token
            .ok_or_else(|| source("the TSA refused the request"))?;
        Ok(token.to_der()?)
    }
}

/// The DER TimeStampReq for a SHA-256 digest, with a nonce made of `random`.
fn request(sha256_digest: &[u8], random: [u8; 8]) -> Result<Vec<u8>, TimestampError> {
    Ok(TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: ID_SHA_256,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(sha256_digest)?,
        },
        req_policy: None,
        nonce: Some(nonce(random)?),
        cert_req: true,
        extensions: None,
    }
    .to_der()?)
}

/// A positive INTEGER of exactly eight octets. `Int::new` keeps leading zero octets, and DER
/// forbids them (X.690 §8.3.2): with a first octet of 0 and a second below 0x80 the TSA
/// could not decode the request, one time in 256. The top bits fixed at `01` make the
/// encoding minimal and positive; 62 random bits remain.
fn nonce(mut random: [u8; 8]) -> der::Result<der::asn1::Int> {
    random[0] = (random[0] & 0x7f) | 0x40;
    der::asn1::Int::new(&random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nonce_makes_a_request_that_decodes() {
        // The first two octets decide whether the INTEGER is minimal; cover them all.
        for first in 0..=255u8 {
            for second in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let random = [first, second, 3, 4, 5, 6, 7, 8];
                let der = request(&[7u8; 32], random).unwrap();
                let back = TimeStampReq::from_der(&der)
                    .unwrap_or_else(|e| panic!("nonce {first:02x}{second:02x}…: {e}"));
                let n = back.nonce.unwrap();
                assert_eq!(n.as_bytes().len(), 8, "{first:02x}{second:02x}");
                assert!(n.as_bytes()[0] < 0x80, "positive: {first:02x}");
                assert_eq!(&n.as_bytes()[1..], &random[1..]);
            }
        }
    }
}
