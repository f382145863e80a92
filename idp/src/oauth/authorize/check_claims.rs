//! Rule 10 (OIDC Core §5.5): `claims` is a JSON object whose `userinfo` and `id_token`
//! members are objects.

use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;

/// Rule 10: `claims` is a JSON object whose members are `userinfo` / `id_token` objects.
pub fn check_claims(p: &Params) -> Result<Option<serde_json::Value>, OAuthError> {
    let Some(raw) = p.get("claims") else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(raw)
        .map_err(|_| OAuthError::invalid_request("claims is not valid JSON"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| OAuthError::invalid_request("claims must be a JSON object"))?;
    for (k, m) in obj {
        if (k == "userinfo" || k == "id_token") && !m.is_object() && !m.is_null() {
            return Err(OAuthError::invalid_request(
                "claims members must be JSON objects",
            ));
        }
    }
    Ok(Some(v))
}
