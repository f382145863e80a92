//! The timestamp seam (RFC 3161): a [`TimestampSource`] turns a SHA-256 digest into a
//! TimeStampToken, and [`checked_token`] makes sure that what came back is one and covers that
//! digest before it is embedded in a signature (RFC 3161 §2.4.2: the messageImprint must match).

use crate::oids::ID_CT_TST_INFO;
use cms::content_info::ContentInfo;
use cms::signed_data::EncapsulatedContentInfo;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::OctetString;
use der::{Any, Decode, Sequence};
use spki::AlgorithmIdentifierOwned;

/// Where RFC 3161 timestamps come from: vhod's TSA in production, any TSA in tests.
pub trait TimestampSource {
    /// A DER TimeStampToken (a CMS `ContentInfo` of `SignedData` over a `TSTInfo`) whose
    /// messageImprint is SHA-256 over the signed data; `sha256_digest` is that hash.
    fn timestamp(&self, sha256_digest: &[u8]) -> Result<Vec<u8>, TimestampError>;
}

/// Why a timestamp could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    /// The source could not produce a token (TSA unreachable, refused the request...).
    #[error("the timestamp source failed: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The bytes returned are not a TimeStampToken.
    #[error("the timestamp token is malformed: {0}")]
    Malformed(#[from] der::Error),
    /// The token is well formed but is not a SignedData over a TSTInfo.
    #[error("the timestamp token does not carry a TSTInfo")]
    NotTstInfo,
    /// The token's messageImprint is not SHA-256 over the requested data.
    #[error("the timestamp token covers other data than requested")]
    WrongImprint,
}

/// RFC 3161 §2.4.2:
///
/// ```text
/// MessageImprint ::= SEQUENCE  {
///      hashAlgorithm                AlgorithmIdentifier,
///      hashedMessage                OCTET STRING  }
/// ```
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// Asks `source` for a token over `digest` and returns it parsed as an attribute value, after
/// checking that its TSTInfo's messageImprint (the third field of
/// `TSTInfo ::= SEQUENCE { version, policy, messageImprint, ... }`) is SHA-256 of the same data.
pub(crate) fn checked_token(
    source: &dyn TimestampSource,
    digest: &[u8],
) -> Result<Any, TimestampError> {
    let der = source.timestamp(digest)?;
    let token = ContentInfo::from_der(&der)?;
    if token.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::NotTstInfo);
    }
    // Only encapContentInfo, the third field of SignedData, is read: the token's own
    // certificates and signer infos are the validator's business, and a strict decoding of
    // them would refuse tokens that are merely unusual (e.g. repeated certificates).
    let signed_fields: Vec<Any> = token.content.decode_as()?;
    let encap: EncapsulatedContentInfo = signed_fields
        .get(2)
        .ok_or(TimestampError::NotTstInfo)?
        .decode_as()?;
    let econtent = match encap.econtent {
        Some(content) if encap.econtent_type == ID_CT_TST_INFO => content,
        _ => return Err(TimestampError::NotTstInfo),
    };
    let tst_info: OctetString = econtent.decode_as()?;
    let fields: Vec<Any> = Vec::from_der(tst_info.as_bytes())?;
    let imprint: MessageImprint = fields
        .get(2)
        .ok_or(TimestampError::NotTstInfo)?
        .decode_as()?;
    if imprint.hash_algorithm.oid != ID_SHA_256 || imprint.hashed_message.as_bytes() != digest {
        return Err(TimestampError::WrongImprint);
    }
    Ok(Any::from_der(&der)?)
}
