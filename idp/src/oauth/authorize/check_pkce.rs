//! Rule 7 (RFC 7636 §4.3, §4.4.1): every client sends a `code_challenge` with method
//! `S256`; `plain` and missing challenges are refused. With it, the code's other binding:
//! `dpop_jkt` (RFC 9449 §10), the thumbprint of the DPoP key that must redeem it.

use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;

/// Rule 7: PKCE with S256 (RFC 7636 §4.3); `plain` and missing challenges are refused.
pub fn check_pkce(p: &Params) -> Result<String, OAuthError> {
    let challenge = p
        .get("code_challenge")
        .ok_or_else(|| OAuthError::invalid_request("PKCE is required: missing code_challenge"))?;
    if p.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    if !is_sha256_b64url(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge is not a base64url SHA-256 value",
        ));
    }
    Ok(challenge.to_owned())
}

/// RFC 9449 §10: `dpop_jkt`, when sent, is a JWK SHA-256 thumbprint (43 base64url characters).
pub fn check_dpop_jkt(p: &Params) -> Result<Option<String>, OAuthError> {
    let Some(jkt) = p.get("dpop_jkt") else {
        return Ok(None);
    };
    if !is_sha256_b64url(jkt) {
        return Err(OAuthError::invalid_request(
            "dpop_jkt is not a base64url SHA-256 JWK thumbprint",
        ));
    }
    Ok(Some(jkt.to_owned()))
}

/// Whether `s` can be a SHA-256 digest in unpadded base64url: 43 characters of its alphabet.
fn is_sha256_b64url(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
