//! Certificate profiles (RFC 5280 §4.1, §4.2): root, issuing CA, TSA, OCSP responder and
//! citizen certificates, with names, serial numbers and validity.
//!
//! - Serial numbers are 16 random bytes, positive, never more than 20 octets (§4.1.2.2).
//! - Times before 2050 are UTCTime, later ones GeneralizedTime (§4.1.2.5).
//! - The root carries basicConstraints cA (critical) and keyCertSign + cRLSign; the issuing CA
//!   the same with pathLenConstraint 0 (§4.2.1.9), so it issues only end entities.
//! - The TSA certificate has the single, critical EKU id-kp-timeStamping (RFC 3161 §2.3); the
//!   OCSP responder id-kp-OCSPSigning and id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2).
//! - Citizen certificates: keyUsage digitalSignature + nonRepudiation (critical), SKI, AKI,
//!   CRL distribution point and authority information access (OCSP, caIssuers).

use super::subject::CitizenSubject;
use super::{Authority, CaError, CaSettings};
use const_oid::db::rfc4519;
use const_oid::db::rfc5280::{
    ID_AD_CA_ISSUERS, ID_AD_OCSP, ID_KP_OCSP_SIGNING, ID_KP_TIME_STAMPING,
};
use const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::asn1::{
    Any, GeneralizedTime, Ia5String, Null, PrintableStringRef, SetOfVec, UtcTime, Utf8StringRef,
};
use der::{DateTime, Tag};
use rand::RngCore;
use spki::SubjectPublicKeyInfoOwned;
use std::time::Duration;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

/// SNILS in the subject name (Приказ ФСБ № 795, п. 18).
pub const OID_SNILS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.100.3");
/// A person's INN in the subject name (Приказ ФСБ № 795, п. 18).
pub const OID_INN_PERSON: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.3.131.1.1");

type EcSignature = ecdsa::der::Signature<p256::NistP256>;

/// Refuses settings nothing sensible can be built from.
pub(super) fn check_settings(s: &CaSettings) -> Result<(), CaError> {
    let lifetimes = [
        s.root_validity_secs,
        s.issuing_validity_secs,
        s.service_validity_secs,
        s.citizen_validity_secs,
        s.crl_next_update_secs,
        s.crl_refresh_secs,
    ];
    if lifetimes.iter().any(|v| *v <= 0) {
        return Err(CaError::Settings("every lifetime must be positive".into()));
    }
    if s.issuing_validity_secs > s.root_validity_secs
        || s.service_validity_secs > s.issuing_validity_secs
    {
        return Err(CaError::Settings(
            "the issuing CA must not outlive the root, nor the TSA/OCSP certificates the issuing CA"
                .into(),
        ));
    }
    if !(s.base_url.starts_with("http://") || s.base_url.starts_with("https://")) {
        return Err(CaError::Settings("base_url must be an http(s) URL".into()));
    }
    Ia5String::new(&s.base_url).map_err(|_| CaError::Settings("base_url must be ASCII".into()))?;
    tsa_policy(s)?;
    Ok(())
}

pub(super) fn tsa_policy(s: &CaSettings) -> Result<ObjectIdentifier, CaError> {
    ObjectIdentifier::new(&s.tsa_policy)
        .map_err(|_| CaError::Settings("tsa_policy is not an OID".into()))
}

/// A random positive serial of 16 bytes and its lower-case hex.
pub(crate) fn random_serial() -> Result<(SerialNumber, String), CaError> {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[0] = (b[0] & 0x7f) | 0x40; // positive, and exactly 16 octets
    Ok((SerialNumber::new(&b)?, hex(&b)))
}

/// Lower-case hex.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn date_time(unix: i64) -> Result<DateTime, CaError> {
    let secs = u64::try_from(unix).map_err(|_| CaError::BadValidity("time before 1970"))?;
    DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| CaError::BadValidity("time out of range"))
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
pub(crate) fn time(unix: i64) -> Result<Time, CaError> {
    let dt = date_time(unix)?;
    Ok(if dt.year() < 2050 {
        Time::UtcTime(UtcTime::from_date_time(dt)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(dt))
    })
}

/// GeneralizedTime of a unix time (OCSP and TSP use no other).
pub(crate) fn gtime(unix: i64) -> Result<GeneralizedTime, CaError> {
    Ok(GeneralizedTime::from_date_time(date_time(unix)?))
}

fn validity(from: i64, to: i64) -> Result<Validity, CaError> {
    Ok(Validity {
        not_before: time(from)?,
        not_after: time(to)?,
    })
}

fn rdn(oid: ObjectIdentifier, value: Any) -> Result<RelativeDistinguishedName, CaError> {
    let mut set = SetOfVec::new();
    set.insert(x509_cert::attr::AttributeTypeAndValue { oid, value })?;
    Ok(RelativeDistinguishedName(set))
}

fn utf8(s: &str) -> Result<Any, CaError> {
    Ok(Any::encode_from(&Utf8StringRef::new(s)?)?)
}

fn country_ru() -> Result<RelativeDistinguishedName, CaError> {
    rdn(
        rfc4519::C,
        Any::encode_from(&PrintableStringRef::new("RU")?)?,
    )
}

/// `C=RU, O=<organisation>, CN=<common name>`.
pub(super) fn ca_name(s: &CaSettings, cn: &str) -> Result<Name, CaError> {
    Ok(RdnSequence(vec![
        country_ru()?,
        rdn(rfc4519::O, utf8(&s.organization)?)?,
        rdn(rfc4519::CN, utf8(cn)?)?,
    ]))
}

/// `C=RU, SN, GN, CN, SNILS, INN` — the attributes of Приказ ФСБ № 795, п. 18, with SNILS and
/// INN as NumericString.
pub(super) fn citizen_name(s: &CitizenSubject) -> Result<Name, CaError> {
    let mut rdns = vec![
        country_ru()?,
        rdn(rfc4519::SN, utf8(s.surname.trim())?)?,
        rdn(rfc4519::GIVEN_NAME, utf8(&s.given_names())?)?,
        rdn(rfc4519::CN, utf8(&s.full_name())?)?,
    ];
    if let Some(snils) = &s.snils {
        rdns.push(rdn(
            OID_SNILS,
            Any::new(Tag::NumericString, snils.digits().as_bytes())?,
        )?);
    }
    if let Some(inn) = &s.inn {
        rdns.push(rdn(
            OID_INN_PERSON,
            Any::new(Tag::NumericString, inn.digits().as_bytes())?,
        )?);
    }
    Ok(RdnSequence(rdns))
}

/// id-pkix-ocsp-nocheck: `ocsp-nocheck EXTENSION ::= { SYNTAX NULL IDENTIFIED BY
/// id-pkix-ocsp-nocheck }` (RFC 6960 §4.2.2.2.1).
struct OcspNoCheck;

impl AssociatedOid for OcspNoCheck {
    const OID: ObjectIdentifier = ID_PKIX_OCSP_NOCHECK;
}

impl der::Encode for OcspNoCheck {
    fn encoded_len(&self) -> der::Result<der::Length> {
        Null.encoded_len()
    }
    fn encode(&self, w: &mut impl der::Writer) -> der::Result<()> {
        Null.encode(w)
    }
}

impl AsExtension for OcspNoCheck {
    fn critical(&self, _: &Name, _: &[Extension]) -> bool {
        false
    }
}

fn public(key: &p256::ecdsa::SigningKey) -> Result<SubjectPublicKeyInfoOwned, CaError> {
    SubjectPublicKeyInfoOwned::from_key(*key.verifying_key())
        .map_err(|e| CaError::Build(e.to_string()))
}

fn new_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng)
}

fn leaf(issuer: &Authority) -> Profile {
    Profile::Leaf {
        issuer: issuer.cert.tbs_certificate.subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
        include_subject_key_identifier: true,
    }
}

/// Makes the root, the issuing CA, the TSA and the OCSP responder, in [`Role::ALL`] order.
///
/// [`Role::ALL`]: super::Role::ALL
pub(super) fn make_hierarchy(s: &CaSettings, now: i64) -> Result<[Authority; 4], CaError> {
    let root_key = new_key();
    let root_name = ca_name(s, &format!("{} Root CA", s.organization))?;
    let b = CertificateBuilder::new(
        Profile::Root,
        random_serial()?.0,
        validity(now, now + s.root_validity_secs)?,
        root_name.clone(),
        public(&root_key)?,
        &root_key,
    )?;
    let root = Authority::new(b.build::<EcSignature>()?, root_key)?;

    let issuing_key = new_key();
    let b = CertificateBuilder::new(
        Profile::SubCA {
            issuer: root_name,
            path_len_constraint: Some(0),
        },
        random_serial()?.0,
        validity(now, now + s.issuing_validity_secs)?,
        ca_name(s, &format!("{} Issuing CA", s.organization))?,
        public(&issuing_key)?,
        &root.key,
    )?;
    let issuing = Authority::new(b.build::<EcSignature>()?, issuing_key)?;

    let service =
        |cn: String, eku: ObjectIdentifier, nocheck: bool| -> Result<Authority, CaError> {
            let key = new_key();
            let mut b = CertificateBuilder::new(
                leaf(&issuing),
                random_serial()?.0,
                validity(now, now + s.service_validity_secs)?,
                ca_name(s, &cn)?,
                public(&key)?,
                &issuing.key,
            )?;
            b.add_extension(&ExtendedKeyUsage(vec![eku]))?;
            if nocheck {
                b.add_extension(&OcspNoCheck)?;
            }
            Authority::new(b.build::<EcSignature>()?, key)
        };
    let tsa = service(
        format!("{} Time-Stamping Authority", s.organization),
        ID_KP_TIME_STAMPING,
        false,
    )?;
    let ocsp = service(
        format!("{} OCSP Responder", s.organization),
        ID_KP_OCSP_SIGNING,
        true,
    )?;
    Ok([root, issuing, tsa, ocsp])
}

/// What a citizen certificate is made of besides the issuer.
pub(super) struct CitizenTbs<'a> {
    pub(super) subject: &'a CitizenSubject,
    pub(super) spki: SubjectPublicKeyInfoOwned,
    pub(super) serial: SerialNumber,
    pub(super) not_before: i64,
    pub(super) not_after: i64,
}

/// Issues a citizen certificate under `issuing`.
pub(super) fn citizen_cert(
    s: &CaSettings,
    issuing: &Authority,
    t: CitizenTbs<'_>,
) -> Result<Certificate, CaError> {
    let mut b = CertificateBuilder::new(
        leaf(issuing),
        t.serial,
        validity(t.not_before, t.not_after)?,
        citizen_name(t.subject)?,
        t.spki,
        &issuing.key,
    )?;
    let uri = |path: &str| -> Result<GeneralName, CaError> {
        Ok(GeneralName::UniformResourceIdentifier(Ia5String::new(
            &s.url(path),
        )?))
    };
    b.add_extension(&CrlDistributionPoints(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri("crl")?])),
        reasons: None,
        crl_issuer: None,
    }]))?;
    b.add_extension(&AuthorityInfoAccessSyntax(vec![
        AccessDescription {
            access_method: ID_AD_OCSP,
            access_location: uri("ocsp")?,
        },
        AccessDescription {
            access_method: ID_AD_CA_ISSUERS,
            access_location: uri("issuing.crt")?,
        },
    ]))?;
    Ok(b.build::<EcSignature>()?)
}
