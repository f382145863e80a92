//! Rule 4 (RFC 6749 §3.1, OIDC Core §6): no parameter twice or oversized; `request_uri` (by
//! then only one that is not a pushed request's) and `registration` are answered as
//! unsupported; `state` and `nonce` are bounded. A Request Object (`request`) has been
//! applied before (`oauth::request_object`).

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;

/// Rule 4: no duplicated or oversized parameters; no Request Object by reference.
pub fn check_well_formed(p: &Params) -> Result<(), OAuthError> {
    p.check_well_formed()?;
    if p.has("request_uri") {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    if p.has("registration") {
        return Err(OAuthError::new(
            ErrorCode::RegistrationNotSupported,
            "registration is not supported",
        ));
    }
    if p.get("state").is_some_and(|s| s.len() > 2048) {
        return Err(OAuthError::invalid_request("state is too long"));
    }
    if p.get("nonce").is_some_and(|s| s.len() > 512) {
        return Err(OAuthError::invalid_request("nonce is too long"));
    }
    Ok(())
}
