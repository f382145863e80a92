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
        nonce[0] &= 0x7f;
        let req = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifierOwned {
                    oid: ID_SHA_256,
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(sha256_digest)?,
            },
            req_policy: None,
            nonce: Some(der::asn1::Int::new(&nonce)?),
            cert_req: true,
            extensions: None,
        }
        .to_der()?;
        let ca = self.ca.clone();
        let resp_der = self.rt.block_on(async move { ca.timestamp(&req).await });
        let resp = TimeStampResp::from_der(&resp_der)?;
        let token = resp
            .time_stamp_token
            .ok_or_else(|| source("the TSA refused the request"))?;
        Ok(token.to_der()?)
    }
}
