//! CAdES signatures (ETSI EN 319 122-1): CMS `SignedData` (RFC 5652 §5) at baseline level B-B,
//! and B-T when a [`TimestampSource`] is given.
//!
//! Rules enforced here:
//! - one SignerInfo, identified by issuer and serial number, so `SignedData` and `SignerInfo`
//!   are version 1 (RFC 5652 §5.1, §5.3); the content type is id-data;
//! - the digest is SHA-256 and the signed attributes are content-type, message-digest,
//!   signing-certificate-v2 and, for CAdES, signing-time (EN 319 122-1 baseline B-B);
//! - the signature is made over the DER of the signed attributes (RFC 5652 §5.4) by any
//!   `signature::Signer` (ECDSA P-256 and RSA PKCS#1 v1.5 with SHA-256 are tested);
//! - `certificates` holds the signer's certificate and its chain, for validators;
//! - B-T: the unsigned attribute id-aa-signatureTimeStampToken holds a timestamp over the
//!   signature value (RFC 3161 Appendix A; EN 319 122-1 baseline B-T).

mod attributes;

use crate::oids::ID_AA_SIGNATURE_TIME_STAMP_TOKEN;
use crate::timestamp::{checked_token, TimestampError, TimestampSource};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use sha2::{Digest, Sha256};
use signature::{SignatureEncoding, Signer};
use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};
use std::time::SystemTime;
use x509_cert::Certificate;

/// Whether the signed content travels inside the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packaging {
    /// The content is kept apart (a `.sig` file next to the document): `eContent` is absent.
    Detached,
    /// The content is inside the SignedData's `eContent`.
    Attached,
}

/// A signing key with its certificate: what signs and who it says signed.
pub struct SignerHandle<K> {
    /// The private key, behind `signature::Signer` (a software key, a PKCS#11 key...).
    pub key: K,
    /// The signer's certificate, whose public key matches `key`.
    pub cert: Certificate,
    /// The certificates from the signer's issuer up towards the root, for validators.
    pub chain: Vec<Certificate>,
}

/// Why a CAdES signature could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CadesError {
    /// An ASN.1 structure could not be encoded (e.g. a certificate that does not re-encode).
    #[error("could not encode the signature: {0}")]
    Encoding(#[from] der::Error),
    /// The key refused to sign or has no algorithm identifier.
    #[error("the key could not sign: {0}")]
    Key(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// B-T was asked for and the timestamp could not be had.
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
}

/// A CAdES signature of `content` as DER `ContentInfo`: B-B, or B-T when `tsa` is given.
pub fn sign<K, S>(
    content: &[u8],
    packaging: Packaging,
    signer: &SignerHandle<K>,
    signing_time: SystemTime,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, CadesError>
where
    K: Signer<S> + DynSignatureAlgorithmIdentifier,
    S: SignatureEncoding,
{
    let digest = Sha256::digest(content);
    let econtent = match packaging {
        Packaging::Detached => None,
        Packaging::Attached => Some(Any::encode_from(&OctetString::new(content)?)?),
    };
    signed_data(&digest, econtent, signer, Some(signing_time), tsa)
}

/// A detached signature over content whose SHA-256 is `content_digest`, without signing-time
/// (for PAdES, where the time is the signature dictionary's `/M`).
pub(crate) fn sign_digest_without_time<K, S>(
    content_digest: &[u8],
    signer: &SignerHandle<K>,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, CadesError>
where
    K: Signer<S> + DynSignatureAlgorithmIdentifier,
    S: SignatureEncoding,
{
    signed_data(content_digest, None, signer, None, tsa)
}

fn signed_data<K, S>(
    content_digest: &[u8],
    econtent: Option<Any>,
    signer: &SignerHandle<K>,
    signing_time: Option<SystemTime>,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, CadesError>
where
    K: Signer<S> + DynSignatureAlgorithmIdentifier,
    S: SignatureEncoding,
{
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    };
    let signed_attrs = attributes::signed_attributes(content_digest, &signer.cert, signing_time)?;
    let signature = signer
        .key
        .try_sign(&signed_attrs.to_der()?)
        .map_err(|e| CadesError::Key(Box::new(e)))?
        .to_vec();
    let unsigned_attrs = match tsa {
        None => None,
        Some(tsa) => {
            let token = checked_token(tsa, &Sha256::digest(&signature))?;
            let attr = attributes::attribute(ID_AA_SIGNATURE_TIME_STAMP_TOKEN, token)?;
            Some(SetOfVec::try_from(vec![attr])?)
        }
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.cert.tbs_certificate.issuer.clone(),
            serial_number: signer.cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer
            .key
            .signature_algorithm_identifier()
            .map_err(|e| CadesError::Key(Box::new(e)))?,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certificates = std::iter::once(&signer.cert)
        .chain(&signer.chain)
        .map(|cert| CertificateChoices::Certificate(cert.clone()))
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}
