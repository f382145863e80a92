//! Rule 7 (RFC 7636 §4.3, §4.4.1): every client sends a `code_challenge` with method
//! `S256`; `plain` and missing challenges are refused.

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
    let ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(OAuthError::invalid_request(
            "code_challenge is not a base64url SHA-256 value",
        ));
    }
    Ok(challenge.to_owned())
}
