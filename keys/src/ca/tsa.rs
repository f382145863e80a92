//! The time-stamping authority (RFC 3161, with RFC 5816 signing-certificate-v2).
//!
//! - §2.4.1: the TimeStampReq is parsed; garbage is refused with `badDataFormat`, a hash
//!   algorithm other than SHA-256/384/512 (SHA-1 and MD5 included) with `badAlg`, an imprint
//!   of the wrong length with `badDataFormat`, a foreign reqPolicy with `unacceptedPolicy`
//!   and any extension with `unacceptedExtension`;
//! - §2.4.2: the TSTInfo carries our policy, the request's imprint, a fresh random serial
//!   number (16 bytes: unique without coordination between nodes), genTime from the clock,
//!   the request's nonce, and the TSA's name;
//! - §2.4.1 certReq: the TSA certificate is in the token only when asked for;
//! - RFC 5816 §2.2.1: the SignerInfo has the ESS signing-certificate-v2 attribute (SHA-256 of
//!   the TSA certificate, with issuer and serial).

use super::profile::{gtime, tsa_policy};
use super::{Ca, CaError};
use cmpv2::status::{PkiStatus, PkiStatusInfo};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Int, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence, Tag};
use rand::RngCore;
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_tsp::{TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// The longest nonce taken, in octets (RFC 3161 sets none; 64 bits is typical).
const MAX_NONCE: usize = 64;

/// RFC 5035 §5.4 (ESSCertIDv2, with hashAlgorithm left at its SHA-256 default):
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// RFC 5035 §5.4:
///
/// ```text
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm            AlgorithmIdentifier
///                              DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL }
/// ```
///
/// Only SHA-256 is used, so `hashAlgorithm` is always its DEFAULT and, per DER, absent.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// RFC 5035 §5.4:
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// The PKIFailureInfo bits of RFC 3161 §2.4.2 this TSA answers with.
///
/// ```text
/// PKIFailureInfo ::= BIT STRING {
///     badAlg               (0),
///     badRequest           (2),
///     badDataFormat        (5),
///     timeNotAvailable    (14),
///     unacceptedPolicy    (15),
///     unacceptedExtension (16),
///     addInfoNotAvailable (17),
///     systemFailure       (25) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsaFailure {
    /// Unrecognised or unsupported algorithm identifier.
    BadAlg = 0,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

/// A rejection (RFC 3161 §2.4.2):
///
/// ```text
/// TimeStampResp ::= SEQUENCE  {
///     status                  PKIStatusInfo,
///     timeStampToken          TimeStampToken     OPTIONAL  }
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// ```
///
/// Written here rather than with `cmpv2`'s `PkiFailureInfo`, whose bit order OpenSSL does
/// not read as the named bits above.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Rejection {
    status: RejectionInfo,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct RejectionInfo {
    status: u8,
    pub(crate) fail_info: BitString,
}

#[cfg(test)]
impl Rejection {
    /// The failure bit set, numbered as in the ASN.1 above.
    pub(crate) fn failure_bit(&self) -> Option<usize> {
        let bytes = self.status.fail_info.raw_bytes();
        (0..bytes.len() * 8).find(|i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
    }
}

fn refuse(fail: TsaFailure) -> Vec<u8> {
    let bit = fail as usize;
    let mut bytes = vec![0u8; bit / 8 + 1];
    bytes[bit / 8] = 0x80 >> (bit % 8);
    let unused = u8::try_from(7 - bit % 8).unwrap_or(0);
    let resp = BitString::new(unused, bytes).map(|fail_info| Rejection {
        status: RejectionInfo {
            status: 2, // rejection
            fail_info,
        },
    });
    resp.and_then(|r| r.to_der()).unwrap_or_default()
}

fn imprint_len(oid: ObjectIdentifier) -> Option<usize> {
    match oid {
        o if o == ID_SHA_256 => Some(32),
        o if o == ID_SHA_384 => Some(48),
        o if o == ID_SHA_512 => Some(64),
        _ => None,
    }
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    }
}

impl Ca {
    /// Answers a DER TimeStampReq with a DER TimeStampResp. Never fails: bad requests get a
    /// rejection with the failInfo of RFC 3161 §2.4.2, a fault of ours `systemFailure`.
    pub async fn timestamp(&self, request_der: &[u8]) -> Vec<u8> {
        let resp = match self.stamp(request_der) {
            Ok(Ok(r)) => r,
            Ok(Err(fail)) => return refuse(fail),
            Err(e) => {
                tracing::error!("time stamp failed: {e}");
                return refuse(TsaFailure::SystemFailure);
            }
        };
        resp.to_der().unwrap_or_default()
    }

    fn stamp(&self, der: &[u8]) -> Result<Result<TimeStampResp<'static>, TsaFailure>, CaError> {
        use TsaFailure as F;
        let Ok(req) = TimeStampReq::from_der(der) else {
            return Ok(Err(F::BadDataFormat));
        };
        let mi = &req.message_imprint;
        let Some(len) = imprint_len(mi.hash_algorithm.oid) else {
            return Ok(Err(F::BadAlg));
        };
        if mi.hashed_message.as_bytes().len() != len {
            return Ok(Err(F::BadDataFormat));
        }
        let policy = tsa_policy(&self.settings)?;
        if req.req_policy.is_some_and(|p| p != policy) {
            return Ok(Err(F::UnacceptedPolicy));
        }
        if req.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Ok(Err(F::UnacceptedExtension));
        }
        if req
            .nonce
            .as_ref()
            .is_some_and(|n| n.as_bytes().len() > MAX_NONCE)
        {
            return Ok(Err(F::BadDataFormat));
        }
        let tsa = &self.tsa;
        let mut serial = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let info = TstInfo {
            version: TspVersion::V1,
            policy,
            message_imprint: req.message_imprint.clone(),
            serial_number: Int::new(&serial)?,
            gen_time: gtime(self.clock.now())?,
            accuracy: None,
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: Some(GeneralName::DirectoryName(
                tsa.cert.tbs_certificate.subject.clone(),
            )),
            extensions: None,
        };
        let content = EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::new(Tag::OctetString, info.to_der()?)?),
        };
        let issuer = tsa.cert.tbs_certificate.issuer.clone();
        let serial_number = tsa.cert.tbs_certificate.serial_number.clone();
        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(sha2::Sha256::digest(&tsa.der).to_vec())?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(issuer.clone())],
                    serial_number: serial_number.clone(),
                },
            }],
        };
        let mut values = SetOfVec::new();
        values.insert(Any::encode_from(&ess)?)?;
        let mut signer = SignerInfoBuilder::new(
            &tsa.key,
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer,
                serial_number,
            }),
            sha256_alg(),
            &content,
            None,
        )
        .map_err(|e| CaError::Build(e.to_string()))?;
        signer
            .add_signed_attribute(Attribute {
                oid: ID_AA_SIGNING_CERTIFICATE_V2,
                values,
            })
            .map_err(|e| CaError::Build(e.to_string()))?;
        let mut sd = SignedDataBuilder::new(&content);
        sd.add_digest_algorithm(sha256_alg())
            .map_err(|e| CaError::Build(e.to_string()))?;
        if req.cert_req {
            // The TSA's certificate (RFC 3161 §2.4.1 requires it) and the issuing CA's, which
            // the TSA's certificate chains through: validators that know only the root (pyHanko,
            // `openssl ts -verify -CAfile root`) can then build the path without fetching.
            for cert in [&tsa.cert, &self.issuing.cert] {
                sd.add_certificate(CertificateChoices::Certificate(cert.clone()))
                    .map_err(|e| CaError::Build(e.to_string()))?;
            }
        }
        let token = sd
            .add_signer_info::<_, ecdsa::der::Signature<p256::NistP256>>(signer)
            .map_err(|e| CaError::Build(e.to_string()))?
            .build()
            .map_err(|e| CaError::Build(e.to_string()))?;
        Ok(Ok(TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(token),
        }))
    }
}
