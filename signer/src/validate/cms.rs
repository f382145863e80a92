//! Reading CMS SignedData (RFC 5652 §5) for validation.
//!
//! The outer layers are walked with borrowed `AnyRef`s instead of decoding `cms::SignedData`
//! whole, for three reasons: an attached 10 MB eContent is then a slice of the input, not a
//! copy; the signed attributes are verified over their bytes as received (RFC 5652 §5.4), not
//! a re-encoding; and a certificate set with duplicates or non-certificate choices (both
//! legal in BER, common in the wild) is read instead of refused. Each SignerInfo and
//! certificate is then decoded with the RustCrypto types.

use cms::signed_data::SignerInfo;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{AnyRef, Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::Certificate;

/// A certificate with its DER, as found in a signature or given by the caller.
#[derive(Clone, Debug)]
pub(crate) struct CertEntry {
    pub cert: Certificate,
    pub der: Vec<u8>,
}

impl CertEntry {
    pub(crate) fn from_der(der: &[u8]) -> der::Result<Self> {
        Ok(CertEntry {
            cert: Certificate::from_der(der)?,
            der: der.to_vec(),
        })
    }
}

/// One SignerInfo and the DER of its signed attributes re-tagged as a SET, which is what the
/// signature covers (RFC 5652 §5.4).
pub(crate) struct SignerEntry {
    pub info: SignerInfo,
    pub signed_attrs_der: Option<Vec<u8>>,
}

/// What validation needs from a SignedData.
pub(crate) struct SignedCms<'a> {
    pub econtent_type: ObjectIdentifier,
    /// The encapsulated content, when attached.
    pub econtent: Option<&'a [u8]>,
    pub certs: Vec<CertEntry>,
    pub signers: Vec<SignerEntry>,
}

/// Reads a DER `ContentInfo` holding `SignedData`. Bytes after the ContentInfo are allowed
/// only if they are zeros (the padding of a PDF's `/Contents`).
pub(crate) fn parse(input: &[u8]) -> der::Result<SignedCms<'_>> {
    let mut reader = SliceReader::new(input)?;
    let content_info = AnyRef::decode(&mut reader)?;
    let used = usize::try_from(reader.position())?;
    if input
        .get(used..)
        .unwrap_or_default()
        .iter()
        .any(|b| *b != 0)
    {
        return Err(der::ErrorKind::TrailingData {
            decoded: reader.position(),
            remaining: reader.remaining_len(),
        }
        .into());
    }
    content_info.tag().assert_eq(Tag::Sequence)?;
    let mut ci = SliceReader::new(content_info.value())?;
    let content_type = ObjectIdentifier::decode(&mut ci)?;
    if content_type != ID_SIGNED_DATA {
        return Err(der::ErrorKind::OidUnknown { oid: content_type }.into());
    }
    let explicit = AnyRef::decode(&mut ci)?;
    explicit.tag().assert_eq(context(0, true))?;
    let signed_data = AnyRef::from_der(explicit.value())?;
    signed_data.tag().assert_eq(Tag::Sequence)?;
    let mut sd = SliceReader::new(signed_data.value())?;
    let _version = AnyRef::decode(&mut sd)?.tag().assert_eq(Tag::Integer)?;
    AnyRef::decode(&mut sd)?.tag().assert_eq(Tag::Set)?;
    let (econtent_type, econtent) = encapsulated(AnyRef::decode(&mut sd)?)?;
    let mut certs = Vec::new();
    let mut signers = None;
    while !sd.is_finished() {
        let field = AnyRef::decode(&mut sd)?;
        if field.tag() == context(0, true) {
            certs = certificates(field.value())?;
        } else if field.tag() == context(1, true) {
            // CRLs inside the signature are not used: revocation comes from the policy.
        } else if field.tag() == Tag::Set {
            signers = Some(signer_infos(field.value())?);
        } else {
            return Err(field.tag().unexpected_error(Some(Tag::Set)));
        }
    }
    let signers = signers.ok_or_else(|| {
        der::Error::from(der::ErrorKind::Incomplete {
            expected_len: signed_data.value().len().try_into().unwrap_or_default(),
            actual_len: signed_data.value().len().try_into().unwrap_or_default(),
        })
    })?;
    Ok(SignedCms {
        econtent_type,
        econtent,
        certs,
        signers,
    })
}

fn context(number: u8, constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: TagNumber::new(number),
    }
}

/// `EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING
/// OPTIONAL }`.
fn encapsulated(any: AnyRef<'_>) -> der::Result<(ObjectIdentifier, Option<&[u8]>)> {
    any.tag().assert_eq(Tag::Sequence)?;
    let mut r = SliceReader::new(any.value())?;
    let econtent_type = ObjectIdentifier::decode(&mut r)?;
    let econtent = if r.is_finished() {
        None
    } else {
        let explicit = AnyRef::decode(&mut r)?;
        explicit.tag().assert_eq(context(0, true))?;
        Some(OctetStringRef::from_der(explicit.value())?.as_bytes())
    };
    r.finish(())?;
    Ok((econtent_type, econtent))
}

/// The certificates of a `CertificateSet`; other choices (attribute certificates...) are
/// skipped, duplicates kept.
fn certificates(set: &[u8]) -> der::Result<Vec<CertEntry>> {
    let mut r = SliceReader::new(set)?;
    let mut certs = Vec::new();
    while !r.is_finished() {
        let choice = AnyRef::decode(&mut r)?;
        if choice.tag() == Tag::Sequence {
            certs.push(CertEntry::from_der(&choice.to_der()?)?);
        }
    }
    Ok(certs)
}

fn signer_infos(set: &[u8]) -> der::Result<Vec<SignerEntry>> {
    let mut r = SliceReader::new(set)?;
    let mut signers = Vec::new();
    while !r.is_finished() {
        let raw = AnyRef::decode(&mut r)?;
        let info = SignerInfo::from_der(&raw.to_der()?)?;
        // The signed attributes are the fourth field, [0] IMPLICIT SET OF Attribute.
        let mut fields = SliceReader::new(raw.value())?;
        let mut signed_attrs_der = None;
        while !fields.is_finished() {
            let field = AnyRef::decode(&mut fields)?;
            if field.tag() == context(0, true) {
                signed_attrs_der = Some(AnyRef::new(Tag::Set, field.value())?.to_der()?);
                break;
            }
        }
        signers.push(SignerEntry {
            info,
            signed_attrs_der,
        });
    }
    Ok(signers)
}
