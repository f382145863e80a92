//! A citizen's key pair, made and kept server-side (ECDSA P-256 by default, RSA-2048/3072 on
//! request), and the handle that signs with it.
//!
//! [`CitizenKey`] implements `signature::Signer`, `signature::Keypair` and
//! `spki::DynSignatureAlgorithmIdentifier`, the bounds RustCrypto's `cms` and `x509-cert`
//! builders put on a signer, so CMS signing (RFC 5652 §5.4) takes it as it would a hardware
//! key. ECDSA signatures are DER `Ecdsa-Sig-Value` (RFC 5758 §3.2), RSA ones PKCS #1 v1.5
//! with SHA-256 (RFC 4055 §5).

use super::CaError;
use der::asn1::BitString;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sha2::Sha256;
use signature::{Keypair, SignatureEncoding, Signer};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use std::str::FromStr;

/// The algorithm of a citizen's key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyAlg {
    /// ECDSA over NIST P-256 with SHA-256 (the default).
    #[default]
    P256,
    /// RSA 2048-bit, PKCS #1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA 3072-bit, PKCS #1 v1.5 with SHA-256.
    Rsa3072,
}

impl KeyAlg {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::P256 => "P-256",
            KeyAlg::Rsa2048 => "RSA-2048",
            KeyAlg::Rsa3072 => "RSA-3072",
        }
    }
}

impl FromStr for KeyAlg {
    type Err = CaError;
    fn from_str(s: &str) -> Result<KeyAlg, CaError> {
        match s {
            "P-256" => Ok(KeyAlg::P256),
            "RSA-2048" => Ok(KeyAlg::Rsa2048),
            "RSA-3072" => Ok(KeyAlg::Rsa3072),
            _ => Err(CaError::Corrupt(format!("unknown key algorithm {s}"))),
        }
    }
}

/// A citizen's private key, decrypted for use. `Debug` shows the algorithm only.
#[derive(Clone)]
pub enum CitizenKey {
    /// ECDSA P-256.
    P256(P256Key),
    /// RSA with PKCS #1 v1.5 and SHA-256 (boxed: it is several times a P-256 key's size).
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

/// A P-256 key: RustCrypto's form for the encodings (PKCS#8, SPKI, algorithm identifiers) and
/// ring's for signing, which here signs ECDSA P-256 about 8× faster — signing is the signer's
/// hot path. Both are made from the same scalar.
#[derive(Clone)]
pub struct P256Key {
    key: p256::ecdsa::SigningKey,
    ring: std::sync::Arc<ring::signature::EcdsaKeyPair>,
}

impl P256Key {
    fn new(key: p256::ecdsa::SigningKey) -> Result<P256Key, CaError> {
        let public = key.verifying_key().to_encoded_point(false);
        let ring = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &key.to_bytes(),
            public.as_bytes(),
            &ring::rand::SystemRandom::new(),
        )
        .map_err(|e| CaError::Corrupt(format!("P-256 key rejected: {e}")))?;
        Ok(P256Key {
            key,
            ring: std::sync::Arc::new(ring),
        })
    }
}

impl std::fmt::Debug for CitizenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CitizenKey::P256(_) => f.write_str("CitizenKey::P256([redacted])"),
            CitizenKey::Rsa(_) => f.write_str("CitizenKey::Rsa([redacted])"),
        }
    }
}

impl CitizenKey {
    /// A new key. RSA generation takes a while: call it off the async threads.
    pub fn generate(alg: KeyAlg) -> Result<CitizenKey, CaError> {
        let rsa = |bits| -> Result<CitizenKey, CaError> {
            let k = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
                .map_err(|e| crate::Error::Key(format!("RSA generation: {e}")))?;
            Ok(CitizenKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k))))
        };
        match alg {
            KeyAlg::P256 => Ok(CitizenKey::P256(P256Key::new(
                p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
            )?)),
            KeyAlg::Rsa2048 => rsa(2048),
            KeyAlg::Rsa3072 => rsa(3072),
        }
    }

    /// PKCS#8 DER of the private key, wiped when dropped.
    pub(super) fn to_pkcs8(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, CaError> {
        let doc = match self {
            CitizenKey::P256(k) => k.key.to_pkcs8_der(),
            CitizenKey::Rsa(k) => {
                let inner: &rsa::RsaPrivateKey = (**k).as_ref();
                inner.to_pkcs8_der()
            }
        }
        .map_err(|e| CaError::Build(format!("PKCS#8 encoding: {e}")))?;
        Ok(zeroize::Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// From PKCS#8 DER stored for `alg`.
    pub(super) fn from_pkcs8(alg: KeyAlg, der: &[u8]) -> Result<CitizenKey, CaError> {
        let bad = |_| CaError::Corrupt(format!("stored {} key is unreadable", alg.as_str()));
        Ok(match alg {
            KeyAlg::P256 => CitizenKey::P256(P256Key::new(
                p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?,
            )?),
            KeyAlg::Rsa2048 | KeyAlg::Rsa3072 => {
                CitizenKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(
                    rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(bad)?,
                )))
            }
        })
    }

    /// The SubjectPublicKeyInfo of the public half.
    pub fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, CaError> {
        SubjectPublicKeyInfoOwned::from_key(self.verifying_key())
            .map_err(|e| CaError::Build(e.to_string()))
    }
}

/// The public half of a [`CitizenKey`].
#[derive(Clone, Debug)]
pub enum CitizenPublicKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// RSA.
    Rsa(rsa::RsaPublicKey),
}

impl EncodePublicKey for CitizenPublicKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        match self {
            CitizenPublicKey::P256(k) => k.to_public_key_der(),
            CitizenPublicKey::Rsa(k) => k.to_public_key_der(),
        }
    }
}

impl Keypair for CitizenKey {
    type VerifyingKey = CitizenPublicKey;
    fn verifying_key(&self) -> CitizenPublicKey {
        match self {
            CitizenKey::P256(k) => CitizenPublicKey::P256(*k.key.verifying_key()),
            CitizenKey::Rsa(k) => {
                let inner: &rsa::RsaPrivateKey = (**k).as_ref();
                CitizenPublicKey::Rsa(inner.to_public_key())
            }
        }
    }
}

impl DynSignatureAlgorithmIdentifier for CitizenKey {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        match self {
            CitizenKey::P256(k) => k.key.signature_algorithm_identifier(),
            CitizenKey::Rsa(k) => k.signature_algorithm_identifier(),
        }
    }
}

/// A signature by a [`CitizenKey`], in the encoding X.509 and CMS carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CitizenSignature(Box<[u8]>);

impl CitizenSignature {
    /// The encoded signature.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<&[u8]> for CitizenSignature {
    type Error = signature::Error;
    fn try_from(b: &[u8]) -> Result<Self, signature::Error> {
        Ok(CitizenSignature(b.into()))
    }
}

impl From<CitizenSignature> for Box<[u8]> {
    fn from(s: CitizenSignature) -> Box<[u8]> {
        s.0
    }
}

impl SignatureEncoding for CitizenSignature {
    type Repr = Box<[u8]>;
}

impl SignatureBitStringEncoding for CitizenSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl Signer<CitizenSignature> for CitizenKey {
    fn try_sign(&self, msg: &[u8]) -> Result<CitizenSignature, signature::Error> {
        let bytes: Box<[u8]> = match self {
            // ASN.1 DER Ecdsa-Sig-Value, as the RustCrypto form would make.
            CitizenKey::P256(k) => k
                .ring
                .sign(&ring::rand::SystemRandom::new(), msg)
                .map_err(|_| signature::Error::new())?
                .as_ref()
                .into(),
            CitizenKey::Rsa(k) => {
                let s: rsa::pkcs1v15::Signature = k.try_sign(msg)?;
                s.to_bytes()
            }
        };
        Ok(CitizenSignature(bytes))
    }
}
