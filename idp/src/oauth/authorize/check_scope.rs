//! Rule 6 (OIDC Core §3.1.2.1, §5.4): `openid` is required; unknown scopes and scopes the
//! client may not ask for are dropped.

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::split_list;
use crate::store::Client;

/// Scopes this provider understands; others are ignored (OIDC Core §3.1.2.1).
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Rule 6: scopes, keeping those we know and the client may ask for; `openid` required.
pub fn check_scope(client: &Client, p: &Params) -> Result<Vec<String>, OAuthError> {
    let asked = split_list(p.get("scope").unwrap_or(""));
    if !asked.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    Ok(asked
        .into_iter()
        .filter(|s| SCOPES.contains(&s.as_str()) && (s == "openid" || client.scope.contains(s)))
        .collect())
}
