//! Object identifiers the signature formats need that `const-oid`'s database lacks.

use der::asn1::ObjectIdentifier;

/// `id-ct-TSTInfo` (RFC 3161 §2.4.2): the eContentType of a TimeStampToken.
pub(crate) const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// `id-aa-signatureTimeStampToken` (RFC 3161 Appendix A, used by ETSI EN 319 122-1 B-T): the
/// unsigned attribute holding a timestamp over a SignerInfo's signature value.
pub(crate) const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
