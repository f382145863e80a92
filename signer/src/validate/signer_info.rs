//! The checks of one SignerInfo that need no trust decision (RFC 5652 §5.4, §11; EN 319 102-1
//! §5.2.2 format, §5.2.3 identification of the signing certificate, §5.2.7 cryptographic
//! verification, §5.2.8 cryptographic constraints):
//! - the signing certificate is found by the SignerIdentifier, and the signing-certificate
//!   (v2 or v1) attribute, when present, names that very certificate;
//! - content-type, when signed attributes are present, equals eContentType;
//! - the digest and signature algorithms and the key size are accepted;
//! - message-digest equals the digest of the content, hashed once;
//! - the signature value verifies over the signed attributes (or the content, without them).
//!
//! Used for signatures and for the SignerInfo of timestamp tokens alike.

use super::cms::{CertEntry, SignerEntry};
use super::crypto::{self, AlgorithmConstraints, DigestAlg, VerifyError};
use super::report::{Check, SubIndication};
use cms::signed_data::SignerIdentifier;
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST,
};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Tag, Tagged};
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// The bytes a signature covers: a document, the two `/ByteRange` parts of a PDF, or nothing
/// (a detached signature given without its document).
#[derive(Clone, Copy)]
pub(crate) enum Covered<'a> {
    Parts(&'a [&'a [u8]]),
    Missing,
}

/// What [`check`] found.
pub(crate) struct Outcome<'a> {
    pub cert: Option<&'a CertEntry>,
    pub checks: Vec<Check>,
}

/// The first value of the signed attribute `oid`.
pub(crate) fn signed_attr(entry: &SignerEntry, oid: ObjectIdentifier) -> Option<&Any> {
    entry
        .info
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == oid)?
        .values
        .get(0)
}

pub(crate) fn check<'a>(
    entry: &SignerEntry,
    econtent_type: &ObjectIdentifier,
    covered: Covered<'_>,
    pool: &'a [CertEntry],
    constraints: &AlgorithmConstraints,
) -> Outcome<'a> {
    let mut checks = Vec::new();
    let info = &entry.info;
    let cert = pool.iter().find(|c| identifies(&info.sid, c));
    match cert {
        Some(c) => checks.push(Check::passed(
            "signing_certificate",
            format!("signed by {}", c.cert.tbs_certificate.subject),
        )),
        None => checks.push(Check::failed(
            "signing_certificate",
            SubIndication::NoSigningCertificateFound,
            "the signing certificate is not in the signature nor among the given certificates",
        )),
    }
    if let Some(cert) = cert {
        checks.push(reference_check(entry, cert));
    }
    if entry.signed_attrs_der.is_some() {
        let content_type = signed_attr(entry, ID_CONTENT_TYPE)
            .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
        if content_type.as_ref() != Some(econtent_type) {
            checks.push(Check::failed(
                "content_type",
                SubIndication::FormatFailure,
                "the content-type attribute is missing or differs from the content's type",
            ));
        }
    }
    let digest = DigestAlg::from_oid(&info.digest_alg.oid);
    let refused = match (digest, cert) {
        (None, _) => Some(format!("unknown digest algorithm {}", info.digest_alg.oid)),
        (Some(d), cert) => d.refused_by(constraints).or_else(|| {
            cert.and_then(|c| {
                crypto::refused(
                    &c.cert.tbs_certificate.subject_public_key_info,
                    &info.signature_algorithm,
                    Some(d),
                    constraints,
                )
            })
        }),
    };
    match &refused {
        Some(why) => checks.push(Check::failed(
            "algorithms",
            SubIndication::CryptoConstraintsFailureNoPoe,
            format!("{why}, and nothing proves the signature existed while it was accepted"),
        )),
        None => checks.push(Check::passed(
            "algorithms",
            format!(
                "digest {}, signature {}",
                digest.map_or("?", DigestAlg::name),
                const_oid::db::DB
                    .by_oid(&info.signature_algorithm.oid)
                    .map_or_else(|| info.signature_algorithm.oid.to_string(), str::to_owned)
            ),
        )),
    }
    let parts = match covered {
        Covered::Parts(parts) => Some(parts),
        Covered::Missing => None,
    };
    // Without signed attributes the signature is over the content itself (RFC 5652 §5.4); a
    // PDF's two ranges are then joined, a copy made only in this rare legacy case.
    let joined;
    let message: Option<&[u8]> = match (&entry.signed_attrs_der, parts) {
        (Some(attrs), _) => Some(attrs),
        (None, Some(parts)) => {
            joined = parts.concat();
            Some(&joined)
        }
        (None, None) => None,
    };
    match (entry.signed_attrs_der.is_some(), parts, digest) {
        (_, None, _) => checks.push(Check::failed(
            "message_digest",
            SubIndication::SignedDataNotFound,
            "the signed content is neither attached nor given",
        )),
        (true, Some(parts), Some(d)) => {
            let claimed = signed_attr(entry, ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok());
            match (claimed, d.digest(parts)) {
                (None, _) => checks.push(Check::failed(
                    "message_digest",
                    SubIndication::FormatFailure,
                    "the message-digest attribute is missing",
                )),
                (Some(_), None) => checks.push(Check::skipped(
                    "message_digest",
                    format!("{} digests are not computed", d.name()),
                )),
                (Some(claimed), Some(actual)) if claimed.as_bytes() == actual.as_slice() => checks
                    .push(Check::passed(
                        "message_digest",
                        format!("the {} digest of the content matches", d.name()),
                    )),
                (Some(_), Some(_)) => checks.push(Check::failed(
                    "message_digest",
                    SubIndication::HashFailure,
                    "the signed content was changed: its digest differs from the signed one",
                )),
            }
        }
        _ => {}
    }
    match (cert, message) {
        (Some(cert), Some(message)) => {
            let result = crypto::verify(
                &cert.cert.tbs_certificate.subject_public_key_info,
                &info.signature_algorithm,
                digest,
                message,
                info.signature.as_bytes(),
                constraints,
            );
            checks.push(match result {
                Ok(_) => Check::passed(
                    "signature_value",
                    "the signature value verifies with the signer's public key",
                ),
                Err(VerifyError::Invalid) => Check::failed(
                    "signature_value",
                    SubIndication::SigCryptoFailure,
                    "the signature value does not verify with the signer's public key",
                ),
                Err(VerifyError::Unsupported(why)) if refused.is_some() => {
                    Check::skipped("signature_value", why)
                }
                Err(VerifyError::Unsupported(why)) => Check::failed(
                    "signature_value",
                    SubIndication::CryptoConstraintsFailure,
                    why,
                ),
            });
        }
        _ => checks.push(Check::skipped(
            "signature_value",
            "not verified: the signing certificate or the content is missing",
        )),
    }
    Outcome { cert, checks }
}

fn identifies(sid: &SignerIdentifier, entry: &CertEntry) -> bool {
    let tbs = &entry.cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            tbs.get::<SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if own == *ski
        ),
    }
}

/// ETSI EN 319 122-1 §5.2.2 / RFC 5035: the first ESSCertID(v2) of the signing-certificate
/// attribute must be the hash of the signing certificate. An absent attribute is a warning:
/// plain CMS (RFC 5652) does not require it, CAdES does.
fn reference_check(entry: &SignerEntry, cert: &CertEntry) -> Check {
    const NAME: &str = "signing_certificate_reference";
    let (attr, v2) = match (
        signed_attr(entry, ID_AA_SIGNING_CERTIFICATE_V_2),
        signed_attr(entry, ID_AA_SIGNING_CERTIFICATE),
    ) {
        (Some(v2), _) => (v2, true),
        (None, Some(v1)) => (v1, false),
        (None, None) => {
            return Check::warning(
                NAME,
                "no signing-certificate attribute binds the certificate (plain CMS, not CAdES)",
            )
        }
    };
    match first_cert_id(attr, v2) {
        None => Check::failed(
            NAME,
            SubIndication::FormatFailure,
            "the signing-certificate attribute is malformed",
        ),
        Some((alg, hash)) => match alg.digest(&[&cert.der]) {
            Some(actual) if actual == hash => Check::passed(
                NAME,
                format!(
                    "signing-certificate{} names this certificate",
                    if v2 { "-v2" } else { "" }
                ),
            ),
            _ => Check::failed(
                NAME,
                SubIndication::NoSigningCertificateFound,
                "the signing-certificate attribute names another certificate",
            ),
        },
    }
}

/// The hash algorithm and certHash of the first ESSCertIDv2 (or ESSCertID, SHA-1) in
/// `SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), ... }`.
fn first_cert_id(attr: &Any, v2: bool) -> Option<(DigestAlg, Vec<u8>)> {
    let fields: Vec<Any> = attr.decode_as().ok()?;
    let certs: Vec<Any> = fields.first()?.decode_as().ok()?;
    let id: Vec<Any> = certs.first()?.decode_as().ok()?;
    let mut id = id.iter();
    let mut alg = if v2 {
        DigestAlg::Sha256
    } else {
        DigestAlg::Sha1
    };
    let mut first = id.next()?;
    if v2 && first.tag() == Tag::Sequence {
        let algorithm =
            spki::AlgorithmIdentifierOwned::from_der(&der::Encode::to_der(first).ok()?).ok()?;
        alg = DigestAlg::from_oid(&algorithm.oid)?;
        first = id.next()?;
    }
    let hash: OctetString = first.decode_as().ok()?;
    Some((alg, hash.into_bytes()))
}
