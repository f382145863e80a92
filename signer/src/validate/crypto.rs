//! Digests and signature verification with ring, and the algorithm constraints (which digests
//! and key sizes are still accepted).
//!
//! Algorithms: RSA PKCS#1 v1.5 (RFC 8017 §8.2) with SHA-1/256/384/512, RSASSA-PSS (RFC 4055)
//! with MGF1 of the same hash and a salt as long as the hash, ECDSA over P-256 and P-384
//! (RFC 5758 §3.2) with SHA-256/384, and Ed25519 (RFC 8419). A weak algorithm is still
//! verified when ring can, so a forged signature is reported as such and a genuine but weak one
//! as a constraint failure.

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{ObjectIdentifier, Uint};
use der::{Decode, Sequence};
use ring::signature as sig;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// Which algorithms and key sizes are accepted (EN 319 102-1 §5.2.8, cryptographic
/// constraints). The defaults refuse SHA-1, MD5 and RSA keys under 2048 bits, as the issue and
/// ETSI TS 119 312 do.
#[derive(Clone, Debug)]
pub struct AlgorithmConstraints {
    /// The smallest RSA modulus accepted, in bits.
    pub min_rsa_bits: usize,
    /// Whether SHA-1 is still accepted (in signatures and digests).
    pub allow_sha1: bool,
}

impl Default for AlgorithmConstraints {
    fn default() -> Self {
        AlgorithmConstraints {
            min_rsa_bits: 2048,
            allow_sha1: false,
        }
    }
}

/// A digest algorithm named in a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DigestAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

const ID_MD5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");

impl DigestAlg {
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            rfc5912::ID_SHA_1 => DigestAlg::Sha1,
            rfc5912::ID_SHA_256 => DigestAlg::Sha256,
            rfc5912::ID_SHA_384 => DigestAlg::Sha384,
            rfc5912::ID_SHA_512 => DigestAlg::Sha512,
            ID_MD5 => DigestAlg::Md5,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            DigestAlg::Md5 => "MD5",
            DigestAlg::Sha1 => "SHA-1",
            DigestAlg::Sha256 => "SHA-256",
            DigestAlg::Sha384 => "SHA-384",
            DigestAlg::Sha512 => "SHA-512",
        }
    }

    fn ring(self) -> Option<&'static ring::digest::Algorithm> {
        match self {
            DigestAlg::Md5 => None,
            DigestAlg::Sha1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            DigestAlg::Sha256 => Some(&ring::digest::SHA256),
            DigestAlg::Sha384 => Some(&ring::digest::SHA384),
            DigestAlg::Sha512 => Some(&ring::digest::SHA512),
        }
    }

    /// Why `constraints` refuse this digest, if they do.
    pub(crate) fn refused_by(self, constraints: &AlgorithmConstraints) -> Option<String> {
        match self {
            DigestAlg::Md5 => Some("MD5 is not an accepted digest".into()),
            DigestAlg::Sha1 if !constraints.allow_sha1 => {
                Some("SHA-1 is no longer an accepted digest".into())
            }
            _ => None,
        }
    }

    /// The digest of the concatenation of `parts` (one pass, no copy); `None` for MD5, which
    /// is refused before anything is hashed with it.
    pub(crate) fn digest(self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        let mut ctx = ring::digest::Context::new(self.ring()?);
        for part in parts {
            ctx.update(part);
        }
        Some(ctx.finish().as_ref().to_vec())
    }
}

/// Why a signature did not verify.
#[derive(Debug)]
pub(crate) enum VerifyError {
    /// The algorithm, its parameters or the key cannot be used here.
    Unsupported(String),
    /// The signature value is wrong for this key and message.
    Invalid,
}

const ID_EC_PUBLIC_KEY: ObjectIdentifier = rfc5912::ID_EC_PUBLIC_KEY;
const SECP256R1: ObjectIdentifier = rfc5912::SECP_256_R_1;
const SECP384R1: ObjectIdentifier = rfc5912::SECP_384_R_1;
/// ecdsa-with-SHA1 (RFC 3279 §2.2.3), not in const-oid's database.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const MD5_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4");

/// RFC 4055 §3.1:
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// Key family and hash named by a signature algorithm identifier.
enum Scheme {
    RsaPkcs1(DigestAlg),
    RsaPss(DigestAlg),
    Ecdsa(DigestAlg),
    Ed25519,
}

/// What the signature algorithm identifier says; `digest_hint` is the SignerInfo's
/// digestAlgorithm, which decides the hash when the identifier names only the key type
/// (rsaEncryption, id-ecPublicKey: both occur in CMS, RFC 5754 §3).
fn scheme(
    alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlg>,
) -> Result<Scheme, VerifyError> {
    let hint = || {
        digest_hint.ok_or_else(|| VerifyError::Unsupported("the signature names no digest".into()))
    };
    Ok(match alg.oid {
        rfc5912::RSA_ENCRYPTION => Scheme::RsaPkcs1(hint()?),
        MD5_WITH_RSA => Scheme::RsaPkcs1(DigestAlg::Md5),
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(DigestAlg::Sha1),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(DigestAlg::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(DigestAlg::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(DigestAlg::Sha512),
        rfc5912::ID_RSASSA_PSS => Scheme::RsaPss(pss_hash(alg)?),
        ECDSA_WITH_SHA_1 => Scheme::Ecdsa(DigestAlg::Sha1),
        rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(DigestAlg::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(DigestAlg::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(DigestAlg::Sha512),
        ID_EC_PUBLIC_KEY => Scheme::Ecdsa(hint()?),
        rfc8410::ID_ED_25519 => Scheme::Ed25519,
        other => {
            return Err(VerifyError::Unsupported(format!(
                "unsupported signature algorithm {other}"
            )))
        }
    })
}

/// The hash of RSASSA-PSS parameters that ring can verify: MGF1 with the same hash and a salt
/// as long as the hash.
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Result<DigestAlg, VerifyError> {
    let unsupported = |why: &str| VerifyError::Unsupported(format!("RSASSA-PSS: {why}"));
    let params: PssParams = alg
        .parameters
        .as_ref()
        .ok_or_else(|| unsupported("parameters are missing"))?
        .decode_as()
        .map_err(|_| unsupported("parameters are malformed"))?;
    let hash = match &params.hash {
        Some(h) => DigestAlg::from_oid(&h.oid).ok_or_else(|| unsupported("unknown hash"))?,
        None => DigestAlg::Sha1,
    };
    let mgf_hash = match &params.mask_gen {
        Some(mgf) if mgf.oid == rfc5912::ID_MGF_1 => mgf
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
            .and_then(|h| DigestAlg::from_oid(&h.oid)),
        Some(_) => None,
        None => Some(DigestAlg::Sha1),
    };
    let hash_len = match hash {
        DigestAlg::Sha256 => 32,
        DigestAlg::Sha384 => 48,
        DigestAlg::Sha512 => 64,
        _ => return Err(unsupported("only SHA-256/384/512 are supported")),
    };
    if mgf_hash != Some(hash)
        || params.salt_length.unwrap_or(20) != hash_len
        || params.trailer_field.unwrap_or(1) != 1
    {
        return Err(unsupported(
            "only MGF1 with the same hash and a salt of the hash's length are supported",
        ));
    }
    Ok(hash)
}

/// The modulus length of an RSAPublicKey (RFC 8017 §A.1.1).
fn rsa_modulus_bits(key: &[u8]) -> Option<usize> {
    let parts: Vec<Uint> = Vec::from_der(key).ok()?;
    let modulus = parts.first()?.as_bytes();
    let first = *modulus.first()?;
    Some(modulus.len() * 8 - first.leading_zeros() as usize)
}

/// Verifies `signature` over `message` with the key of `spki` under algorithm `alg`.
pub(crate) fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlg>,
    message: &[u8],
    signature: &[u8],
    constraints: &AlgorithmConstraints,
) -> Result<(), VerifyError> {
    let key = spki.subject_public_key.raw_bytes();
    let scheme = scheme(alg, digest_hint)?;
    let key_oid = spki.algorithm.oid;
    // `weak` is only the explanation when a refused algorithm cannot be verified at all;
    // [`refused`] is where constraints are decided.
    let ring_alg: &dyn sig::VerificationAlgorithm = match scheme {
        Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash) => {
            if key_oid != rfc5912::RSA_ENCRYPTION && key_oid != rfc5912::ID_RSASSA_PSS {
                return Err(VerifyError::Unsupported(
                    "an RSA signature by a non-RSA key".into(),
                ));
            }
            let bits = rsa_modulus_bits(key)
                .ok_or_else(|| VerifyError::Unsupported("the RSA key is malformed".into()))?;
            let weak = hash.refused_by(constraints).or_else(|| {
                (bits < constraints.min_rsa_bits).then(|| {
                    format!(
                        "an RSA key of {bits} bits is under the accepted {} bits",
                        constraints.min_rsa_bits
                    )
                })
            });
            let pss = matches!(scheme, Scheme::RsaPss(_));
            let ring_alg: &dyn sig::VerificationAlgorithm = match (pss, hash) {
                (false, DigestAlg::Sha1) => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                (false, DigestAlg::Sha256) => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                (false, DigestAlg::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
                (false, DigestAlg::Sha512) => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                (true, DigestAlg::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
                (true, DigestAlg::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
                (true, DigestAlg::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
                (_, other) => {
                    // MD5 (and PSS over SHA-1) cannot be verified; the constraint says why.
                    let why = weak
                        .unwrap_or_else(|| format!("RSA with {} is not supported", other.name()));
                    return Err(VerifyError::Unsupported(why));
                }
            };
            ring_alg
        }
        Scheme::Ecdsa(hash) => {
            if key_oid != ID_EC_PUBLIC_KEY {
                return Err(VerifyError::Unsupported(
                    "an ECDSA signature by a non-EC key".into(),
                ));
            }
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let weak = hash.refused_by(constraints);
            let ring_alg: &dyn sig::VerificationAlgorithm = match (curve, hash) {
                (Some(SECP256R1), DigestAlg::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
                (Some(SECP256R1), DigestAlg::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
                (Some(SECP384R1), DigestAlg::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
                (Some(SECP384R1), DigestAlg::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
                _ => {
                    let why = weak.unwrap_or_else(|| {
                        format!("ECDSA with {} on this curve is not supported", hash.name())
                    });
                    return Err(VerifyError::Unsupported(why));
                }
            };
            ring_alg
        }
        Scheme::Ed25519 => &sig::ED25519,
    };
    sig::UnparsedPublicKey::new(ring_alg, key)
        .verify(message, signature)
        .map_err(|_| VerifyError::Invalid)
}

/// Whether `signer`'s key made `signature` over `tbs` (a certificate's, CRL's or OCSP
/// answer's to-be-signed part) under `alg`.
pub(crate) fn signed_by(
    signer: &x509_cert::Certificate,
    alg: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature: Option<&[u8]>,
    constraints: &AlgorithmConstraints,
) -> bool {
    let spki = &signer.tbs_certificate.subject_public_key_info;
    signature.is_some_and(|sig| verify(spki, alg, None, tbs, sig, constraints).is_ok())
}

/// The constraint a signature algorithm identifier breaks before anything is verified (MD5,
/// SHA-1, short RSA keys), so a refused algorithm is reported as such even when ring cannot
/// verify it.
pub(crate) fn refused(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlg>,
    constraints: &AlgorithmConstraints,
) -> Option<String> {
    let hash = match scheme(alg, digest_hint).ok()? {
        Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) | Scheme::Ecdsa(h) => h,
        Scheme::Ed25519 => return None,
    };
    hash.refused_by(constraints).or_else(|| {
        let bits = rsa_modulus_bits(spki.subject_public_key.raw_bytes())?;
        let rsa = spki.algorithm.oid == rfc5912::RSA_ENCRYPTION;
        (rsa && bits < constraints.min_rsa_bits).then(|| {
            format!(
                "an RSA key of {bits} bits is under the accepted {} bits",
                constraints.min_rsa_bits
            )
        })
    })
}
