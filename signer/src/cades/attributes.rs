//! The signed attributes of a CAdES baseline signature (ETSI EN 319 122-1, RFC 5652 §11):
//! content-type, message-digest, signing-time (CAdES only: PAdES puts the time in the signature
//! dictionary, as ETSI EN 319 142-1 requires) and signing-certificate-v2 (RFC 5035 §3), which binds
//! the signer's certificate to the signature: SHA-256 of the certificate, with its issuer and
//! serial number.

use cms::cert::x509::ext::pkix::name::GeneralName;
use cms::cert::x509::serial_number::SerialNumber;
use cms::cert::x509::Certificate;
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNING_TIME,
};
use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, DateTime, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::time::Time;

/// RFC 5035 §3:
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// RFC 5035 §4:
///
/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier
///            DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL
/// }
/// ```
///
/// The hash is always SHA-256, so `hashAlgorithm` is left out as DER requires for a default.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// RFC 5035 §4:
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber
/// }
/// ```
#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// One attribute of one value.
pub(crate) fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes over `content_digest` (SHA-256 of the signed content, id-data).
/// `signing_time` is `None` for PAdES.
pub(crate) fn signed_attributes(
    content_digest: &[u8],
    cert: &Certificate,
    signing_time: Option<SystemTime>,
) -> der::Result<Attributes> {
    let mut attrs = vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&const_oid::db::rfc5911::ID_DATA)?,
        )?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(content_digest)?)?,
        )?,
        attribute(
            ID_AA_SIGNING_CERTIFICATE_V_2,
            Any::encode_from(&signing_certificate_v2(cert)?)?,
        )?,
    ];
    if let Some(time) = signing_time {
        attrs.push(attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&signing_time_value(time)?)?,
        )?);
    }
    // A DER SET OF is sorted by encoding; `SetOfVec` sorts on construction.
    SetOfVec::try_from(attrs)
}

fn signing_certificate_v2(cert: &Certificate) -> der::Result<SigningCertificateV2> {
    let cert_hash = Sha256::digest(cert.to_der()?);
    Ok(SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert_hash.as_slice())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate.issuer.clone(),
                )],
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    })
}

/// RFC 5652 §11.3: UTCTime for dates from 1950 through 2049, GeneralizedTime otherwise.
fn signing_time_value(time: SystemTime) -> der::Result<Time> {
    let date_time = DateTime::from_system_time(time)?;
    if date_time.year() < 2050 {
        Ok(Time::UtcTime(UtcTime::from_date_time(date_time)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(
            date_time,
        )))
    }
}
