//! Public keys from JWKs, verifying JWS signatures through `ring` (ECDSA in the fixed r||s
//! form JWS uses, RSA through its components, Ed25519).

use crate::jwk::Jwk;
use crate::signing::Alg;
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature as sig;

/// A public key for verifying JWS signatures.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// P-256 uncompressed point.
    P256(Vec<u8>),
    /// P-384 uncompressed point.
    P384(Vec<u8>),
    /// RSA modulus and exponent (big-endian).
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Exponent.
        e: Vec<u8>,
    },
    /// Ed25519 public key.
    Ed25519(Vec<u8>),
}

fn d(s: &Option<String>) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(s.as_deref().ok_or(Error::Jws("JWK member missing"))?)
        .map_err(|_| Error::Jws("JWK member is not base64url"))
}

impl PublicKey {
    /// From a public JWK.
    pub fn from_jwk(j: &Jwk) -> Result<PublicKey, Error> {
        match (j.kty.as_str(), j.crv.as_deref()) {
            ("EC", Some(c @ ("P-256" | "P-384"))) => {
                let (x, y) = (d(&j.x)?, d(&j.y)?);
                let len = if c == "P-256" { 32 } else { 48 };
                if x.len() != len || y.len() != len {
                    return Err(Error::Jws("EC coordinates have the wrong length"));
                }
                let mut pt = vec![4u8];
                pt.extend_from_slice(&x);
                pt.extend_from_slice(&y);
                Ok(if len == 32 {
                    PublicKey::P256(pt)
                } else {
                    PublicKey::P384(pt)
                })
            }
            ("RSA", _) => {
                let n = d(&j.n)?;
                let e = d(&j.e)?;
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err(Error::Jws("RSA keys under 2048 bits are refused"));
                }
                Ok(PublicKey::Rsa { n, e })
            }
            ("OKP", Some("Ed25519")) => Ok(PublicKey::Ed25519(d(&j.x)?)),
            _ => Err(Error::Jws("unsupported key type")),
        }
    }

    /// Verifies a JWS signature made with `alg`; a key of the wrong type fails.
    pub fn verify(&self, alg: Alg, msg: &[u8], signature: &[u8]) -> Result<(), Error> {
        let bad = || Error::Jws("signature verification failed");
        let rsa = |n: &Vec<u8>, e: &Vec<u8>, p: &sig::RsaParameters| {
            sig::RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(p, msg, signature)
            .map_err(|_| bad())
        };
        match (self, alg) {
            (PublicKey::P256(pt), Alg::ES256) => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, pt)
                    .verify(msg, signature)
                    .map_err(|_| bad())
            }
            (PublicKey::P384(pt), Alg::ES384) => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, pt)
                    .verify(msg, signature)
                    .map_err(|_| bad())
            }
            (PublicKey::Rsa { n, e }, Alg::RS256) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA256),
            (PublicKey::Rsa { n, e }, Alg::RS384) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA384),
            (PublicKey::Rsa { n, e }, Alg::RS512) => rsa(n, e, &sig::RSA_PKCS1_2048_8192_SHA512),
            (PublicKey::Rsa { n, e }, Alg::PS256) => rsa(n, e, &sig::RSA_PSS_2048_8192_SHA256),
            (PublicKey::Rsa { n, e }, Alg::PS384) => rsa(n, e, &sig::RSA_PSS_2048_8192_SHA384),
            (PublicKey::Rsa { n, e }, Alg::PS512) => rsa(n, e, &sig::RSA_PSS_2048_8192_SHA512),
            (PublicKey::Ed25519(x), Alg::EdDSA) => sig::UnparsedPublicKey::new(&sig::ED25519, x)
                .verify(msg, signature)
                .map_err(|_| bad()),
            _ => Err(Error::Jws("key type does not match alg")),
        }
    }
}
