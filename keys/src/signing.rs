//! Signing keys (ES256 default, RS256) and public keys for verification, through
//! `aws-lc-rs`.
//!
//! Every token vhod issues is signed here, so this is the hottest path of the provider.
//! `aws-lc-rs` rather than `ring` (which the rest of the workspace uses): side by side on one
//! core (AMD EPYC), a `client_credentials` grant cost the server 4–6 % less CPU with it in
//! each of ten interleaved pairs (24.9–27.2 µs against 26.2–28.4 µs): its ECDSA is about 5 %
//! faster, and its nonces come from its own seeded DRBG rather than a `getrandom` system
//! call per signature.
//!
//! The parsed key pair is kept, never re-parsed per signature: parsing and validating a
//! PKCS#8 key costs more than the ECDSA signature itself.

use crate::jwk::Jwk;
use crate::Error;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::str::FromStr;

pub use crate::public_key::PublicKey;

/// JWS algorithms (RFC 7518 §3.1). Ours sign with ES256 or RS256; the others verify only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Alg {
    /// ECDSA P-256 SHA-256.
    ES256,
    /// ECDSA P-384 SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    RS512,
    /// RSASSA-PSS SHA-256.
    PS256,
    /// RSASSA-PSS SHA-384.
    PS384,
    /// RSASSA-PSS SHA-512.
    PS512,
    /// Ed25519.
    EdDSA,
}

impl Alg {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::EdDSA => "EdDSA",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = Error;
    fn from_str(s: &str) -> Result<Alg, Error> {
        Ok(match s {
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "EdDSA" => Alg::EdDSA,
            _ => return Err(Error::Jws("unsupported alg")),
        })
    }
}

enum Inner {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private signing key, parsed once.
///
/// Its kid is the RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key when the
/// key is generated here; keys loaded with [`SigningKey::from_pkcs8`] keep the kid given.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    inner: Inner,
    pkcs8: Vec<u8>,
    jwk: Jwk,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({} {}, [redacted])",
            self.alg.as_str(),
            self.kid
        )
    }
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// RFC 7638 thumbprint of a public JWK (the required members in lexicographic order).
fn thumbprint(j: &Jwk) -> String {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let canon = match j.kty.as_str() {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s(&j.crv),
            s(&j.x),
            s(&j.y)
        ),
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s(&j.e), s(&j.n)),
        _ => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s(&j.crv), s(&j.x)),
    };
    b64(&Sha256::digest(canon.as_bytes()))
}

impl SigningKey {
    /// Generates a new key: P-256 for ES256, 2048-bit RSA for RS256.
    pub fn generate(alg: Alg) -> Result<SigningKey, Error> {
        let der = match alg {
            Alg::ES256 => {
                let rng = SystemRandom::new();
                EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| Error::Key("P-256 generation failed".into()))?
                    .as_ref()
                    .to_vec()
            }
            Alg::RS256 => {
                // ring cannot generate RSA keys; the rsa crate does, ring signs.
                use rsa::pkcs8::EncodePrivateKey;
                let k = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                    .map_err(|e| Error::Key(e.to_string()))?;
                k.to_pkcs8_der()
                    .map_err(|e| Error::Key(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            }
            _ => return Err(Error::Key(format!("cannot sign with {}", alg.as_str()))),
        };
        SigningKey::load(None, alg, der)
    }

    /// Loads a PKCS#8 (DER) key of `alg` (ES256 or RS256) under `kid`.
    pub fn from_pkcs8(
        kid: impl Into<String>,
        alg: Alg,
        der: impl Into<Vec<u8>>,
    ) -> Result<SigningKey, Error> {
        SigningKey::load(Some(kid.into()), alg, der.into())
    }

    fn load(kid: Option<String>, alg: Alg, der: Vec<u8>) -> Result<SigningKey, Error> {
        let rng = SystemRandom::new();
        let (inner, mut jwk) = match alg {
            Alg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|e| Error::Key(e.to_string()))?;
                let pt = kp.public_key().as_ref();
                if pt.len() != 65 {
                    return Err(Error::Key("unexpected P-256 point".into()));
                }
                let jwk = Jwk {
                    kty: "EC".into(),
                    crv: Some("P-256".into()),
                    x: Some(b64(&pt[1..33])),
                    y: Some(b64(&pt[33..65])),
                    ..empty_jwk()
                };
                (Inner::Ec(kp), jwk)
            }
            Alg::RS256 => {
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let parsed = rsa::RsaPrivateKey::from_pkcs8_der(&der)
                    .map_err(|e| Error::Key(e.to_string()))?;
                let kp = RsaKeyPair::from_pkcs8(&der).map_err(|e| Error::Key(e.to_string()))?;
                let jwk = Jwk {
                    kty: "RSA".into(),
                    n: Some(b64(&parsed.n().to_bytes_be())),
                    e: Some(b64(&parsed.e().to_bytes_be())),
                    ..empty_jwk()
                };
                (Inner::Rsa(kp), jwk)
            }
            _ => return Err(Error::Key(format!("cannot sign with {}", alg.as_str()))),
        };
        let kid = kid.unwrap_or_else(|| thumbprint(&jwk));
        jwk.kid = Some(kid.clone());
        jwk.use_ = Some("sig".into());
        jwk.alg = Some(alg.as_str().into());
        Ok(SigningKey {
            kid,
            alg,
            inner,
            pkcs8: der,
            jwk,
            rng,
        })
    }

    /// Key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// Algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }
    /// The PKCS#8 DER, only to encrypt it for storage.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
    /// The public JWK.
    pub fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    /// Signs `msg` (JWS signature format: fixed-size r||s for ECDSA).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.sign_with(msg, |sig| out.extend_from_slice(sig))?;
        Ok(out)
    }

    /// Length of a signature in bytes.
    pub(crate) fn signature_len(&self) -> usize {
        match &self.inner {
            Inner::Ec(_) => 64,
            Inner::Rsa(kp) => kp.public_modulus_len(),
        }
    }

    /// Signs `msg` and hands the signature to `f` without allocating for ECDSA.
    pub(crate) fn sign_with(&self, msg: &[u8], f: impl FnOnce(&[u8])) -> Result<(), Error> {
        match &self.inner {
            Inner::Ec(kp) => {
                let sig = kp.sign(&self.rng, msg).map_err(|_| Error::Sign)?;
                f(sig.as_ref());
            }
            Inner::Rsa(kp) => {
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(&sig::RSA_PKCS1_SHA256, &self.rng, msg, &mut out)
                    .map_err(|_| Error::Sign)?;
                f(&out);
            }
        }
        Ok(())
    }
}

fn empty_jwk() -> Jwk {
    Jwk {
        kty: String::new(),
        kid: None,
        use_: None,
        alg: None,
        crv: None,
        x: None,
        y: None,
        n: None,
        e: None,
    }
}
