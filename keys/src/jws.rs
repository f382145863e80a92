//! Compact JWS (RFC 7515) signing and verification.
//!
//! Hand-written on purpose: the popular JWT crates re-parse the PKCS#8 key on every
//! signature, which costs more than the ECDSA signature itself, and tokens are our hot path.

use crate::signing::{Alg, PublicKey, SigningKey};
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Largest JWS accepted for verification.
pub const MAX_JWS_LEN: usize = 16 * 1024;

/// The protected header members we read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JwsHeader {
    /// Algorithm (never `none`).
    pub alg: String,
    /// Key id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kid: Option<String>,
    /// Type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub typ: Option<String>,
}

/// The header as written: borrowed, so signing allocates no strings for it.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
}

/// The header as read: unknown members are ignored, except `crit`, which names extensions
/// the signer requires us to understand; we understand none (RFC 7515 §4.1.11).
#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Signs `claims` as a compact JWS with header `{alg, kid, typ}` (base64url, no padding).
///
/// Three allocations: header JSON, payload JSON and the token, sized exactly up front.
pub fn sign_jwt(
    key: &SigningKey,
    typ: Option<&str>,
    claims: &impl Serialize,
) -> Result<String, Error> {
    let mut h = Vec::with_capacity(96);
    serde_json::to_writer(
        &mut h,
        &HeaderOut {
            alg: key.alg().as_str(),
            kid: key.kid(),
            typ,
        },
    )
    .map_err(|_| Error::Sign)?;
    // Sized for a typical token's claims: growing from serde_json's default 128 bytes
    // reallocates two or three times per token.
    let mut p = Vec::with_capacity(512);
    serde_json::to_writer(&mut p, claims).map_err(|_| Error::Sign)?;
    let len = b64_len(h.len()) + 1 + b64_len(p.len()) + 1 + b64_len(key.signature_len());
    let mut out = String::with_capacity(len);
    URL_SAFE_NO_PAD.encode_string(&h, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&p, &mut out);
    let mut sig_b64 = [0u8; 1024]; // ring signs with RSA up to 4096 bits (683 chars); ES256: 86
    let mut n = 0;
    key.sign_with(out.as_bytes(), |sig| {
        n = URL_SAFE_NO_PAD.encode_slice(sig, &mut sig_b64).unwrap_or(0)
    })?;
    if n == 0 {
        return Err(Error::Sign);
    }
    out.push('.');
    out.push_str(std::str::from_utf8(&sig_b64[..n]).map_err(|_| Error::Sign)?);
    Ok(out)
}

/// The parts of a compact JWS, decoded but not verified.
pub struct Decoded<'a> {
    /// Header.
    pub header: JwsHeader,
    /// Payload JSON.
    pub payload: serde_json::Value,
    /// `header.payload` as sent (the signing input).
    pub signing_input: &'a str,
    /// Signature bytes.
    pub signature: Vec<u8>,
}

/// Whether a JWT's `aud` claim (RFC 7519 §4.1.3: one string or an array of them) names
/// `who`.
pub fn audience_includes(aud: Option<&serde_json::Value>, who: &str) -> bool {
    match aud {
        Some(serde_json::Value::String(a)) => a == who,
        Some(serde_json::Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(who)),
        _ => false,
    }
}

/// Decodes a compact JWS strictly (three parts, base64url, JSON header with an `alg` that is
/// not `none`), without checking the signature.
pub fn decode_unverified(
    token: &str,
) -> Result<(JwsHeader, serde_json::Value, &str, Vec<u8>), Error> {
    let d = decode(token)?;
    Ok((d.header, d.payload, d.signing_input, d.signature))
}

fn decode(token: &str) -> Result<Decoded<'_>, Error> {
    if token.len() > MAX_JWS_LEN {
        return Err(Error::Jws("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Jws("not three parts"));
    };
    let de = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| Error::Jws("not base64url"))
    };
    let raw: HeaderIn = serde_json::from_slice(&de(h)?).map_err(|_| Error::Jws("bad header"))?;
    if raw.alg.eq_ignore_ascii_case("none") {
        return Err(Error::Jws("alg none is refused"));
    }
    if raw.crit.is_some() {
        return Err(Error::Jws("critical header extensions are not supported"));
    }
    let header = JwsHeader {
        alg: raw.alg,
        kid: raw.kid,
        typ: raw.typ,
    };
    let payload: serde_json::Value =
        serde_json::from_slice(&de(p)?).map_err(|_| Error::Jws("bad payload"))?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    Ok(Decoded {
        header,
        payload,
        signing_input,
        signature: de(s)?,
    })
}

/// Verifies a compact JWS with the key `lookup` finds for its header; the header's `alg`
/// must be one we support and match the key's type.
pub fn verify_jws(
    token: &str,
    lookup: impl Fn(&JwsHeader) -> Option<PublicKey>,
) -> Result<(JwsHeader, serde_json::Value), Error> {
    let d = decode(token)?;
    let alg: Alg = d.header.alg.parse()?;
    let key = lookup(&d.header).ok_or(Error::Jws("no key for this kid"))?;
    key.verify(alg, d.signing_input.as_bytes(), &d.signature)?;
    Ok((d.header, d.payload))
}

#[cfg(test)]
mod tests;
