//! JWS compact serialization (RFC 7515 §7.1) decoding and signature verification against a
//! JWK Set (RFC 7517 §5) with the `alg` of the protected header (RFC 7518 §3: ES256/384,
//! RS256/384/512, PS256/384/512; RFC 8037: EdDSA), using `ring`.

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::Value;
use sha2::Digest;

/// A decoded, not yet verified, JWS.
#[derive(Debug, Clone)]
pub struct Jws {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jws {
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }
}

pub fn b64(s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .with_context(|| format!("invalid base64url: {s:.20}"))
}

pub fn b64e(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Splits and decodes a compact JWS; the payload must be a JSON object.
pub fn decode(token: &str) -> Result<Jws> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        bail!(
            "not a compact JWS: {} parts (5 would be an encrypted JWE)",
            parts.len()
        );
    }
    let header: Value =
        serde_json::from_slice(&b64(parts[0])?).context("JOSE header is not JSON")?;
    let claims: Value = serde_json::from_slice(&b64(parts[1])?).context("payload is not JSON")?;
    if !header.is_object() || !claims.is_object() {
        bail!("JOSE header and payload must be JSON objects");
    }
    Ok(Jws {
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: b64(parts[2])?,
    })
}

fn field(jwk: &Value, name: &str) -> Result<Vec<u8>> {
    b64(jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("JWK lacks {name}"))?)
}

/// `(kty, crv)` required by an `alg`.
fn kty_for(alg: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match alg {
        "ES256" => ("EC", Some("P-256")),
        "ES384" => ("EC", Some("P-384")),
        "EdDSA" => ("OKP", Some("Ed25519")),
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => ("RSA", None),
        _ => return None,
    })
}

/// Verifies `jws` with one key of `jwks`: the one with the header's `kid`, else every
/// signing key of the right type in turn.
pub fn verify(jws: &Jws, jwks: &Value) -> Result<()> {
    let alg = jws.alg();
    let (kty, crv) = kty_for(alg).ok_or_else(|| anyhow!("unsupported or forbidden alg {alg:?}"))?;
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("JWKS has no keys array"))?;
    let kid = jws.header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&Value> = keys
        .iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some(kty))
        .filter(|k| crv.is_none() || k.get("crv").and_then(Value::as_str) == crv)
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .collect();
    if candidates.is_empty() {
        bail!("no {kty} key in the JWKS matches kid {kid:?} for alg {alg}");
    }
    for k in &candidates {
        if let Some(kalg) = k.get("alg").and_then(Value::as_str) {
            if kalg != alg {
                bail!("JWK kid {kid:?} is for alg {kalg}, token header says {alg}");
            }
        }
        if verify_with(alg, k, jws.signing_input.as_bytes(), &jws.signature).is_ok() {
            return Ok(());
        }
    }
    bail!(
        "{alg} signature does not verify with any of {} candidate key(s)",
        candidates.len()
    )
}

fn verify_with(alg: &str, jwk: &Value, msg: &[u8], sig: &[u8]) -> Result<()> {
    let bad = |_| anyhow!("bad signature");
    let ec = |a: &'static dyn VerificationAlgorithm| -> Result<()> {
        let mut point = vec![4u8];
        point.extend(field(jwk, "x")?);
        point.extend(field(jwk, "y")?);
        UnparsedPublicKey::new(a, point)
            .verify(msg, sig)
            .map_err(bad)
    };
    let rsa = |a: &'static signature::RsaParameters| -> Result<()> {
        let (n, e) = (field(jwk, "n")?, field(jwk, "e")?);
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(a, msg, sig)
            .map_err(bad)
    };
    match alg {
        "ES256" => ec(&signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => ec(&signature::ECDSA_P384_SHA384_FIXED),
        "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "EdDSA" => UnparsedPublicKey::new(&signature::ED25519, field(jwk, "x")?)
            .verify(msg, sig)
            .map_err(bad),
        _ => bail!("unsupported alg {alg}"),
    }
}

/// The left-most half of the hash of `data` for `alg` (OIDC Core §3.1.3.6 `at_hash`,
/// §3.3.2.11 `c_hash`), base64url-encoded.
pub fn half_hash(alg: &str, data: &str) -> Result<String> {
    let digest: Vec<u8> = match alg.get(2..) {
        Some("256") => sha2::Sha256::digest(data).to_vec(),
        Some("384") => sha2::Sha384::digest(data).to_vec(),
        Some("512") => sha2::Sha512::digest(data).to_vec(),
        _ if alg == "EdDSA" => sha2::Sha512::digest(data).to_vec(),
        _ => bail!("no hash defined for alg {alg}"),
    };
    Ok(b64e(&digest[..digest.len() / 2]))
}
