//! Rules 3 and 5 (OAuth 2.0 Multiple Response Type Encoding, RFC 6749 §4.1.1): the
//! response mode is `query` or `form_post`; `response_type` is `code` and the client may
//! use the code grant.

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::ResponseMode;
use crate::store::Client;

/// Rule 3: how to answer (needed before any error can be redirected).
pub fn check_response_mode(p: &Params) -> Result<ResponseMode, (ResponseMode, OAuthError)> {
    match p.get("response_mode") {
        None => Ok(ResponseMode::Query),
        Some(m) => m.parse().map_err(|_| {
            (
                ResponseMode::Query,
                OAuthError::invalid_request("unsupported response_mode"),
            )
        }),
    }
}

/// Rule 5: `response_type=code`, and the client may use the code grant.
pub fn check_response_type(client: &Client, p: &Params) -> Result<(), OAuthError> {
    match p.get("response_type") {
        None => Err(OAuthError::invalid_request(
            "missing required parameter response_type",
        )),
        Some("code") if client.allows(crate::oauth::types::GrantType::AuthorizationCode) => Ok(()),
        Some("code") => Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the client may not use the authorization code flow",
        )),
        Some(_) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )),
    }
}
