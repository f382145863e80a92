//! Rules 8, 9 and 11 (OIDC Core §3.1.2.1): `prompt` values are known and `none` stands
//! alone; `max_age` is a non-negative integer; an `id_token_hint` is an ID token we issued
//! to this client (it may have expired).

use crate::app::App;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::types::{split_list, Prompt};
use crate::store::Client;

/// Rule 8: `prompt` values; `none` stands alone.
pub fn check_prompt(p: &Params) -> Result<Vec<Prompt>, OAuthError> {
    let mut out = Vec::new();
    for v in split_list(p.get("prompt").unwrap_or("")) {
        out.push(
            v.parse::<Prompt>()
                .map_err(|_| OAuthError::invalid_request("unsupported prompt value"))?,
        );
    }
    if out.contains(&Prompt::None) && out.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(out)
}

/// Rule 9: `max_age` is a non-negative integer.
pub fn check_max_age(p: &Params) -> Result<Option<i64>, OAuthError> {
    p.get("max_age")
        .map(|v| {
            v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                OAuthError::invalid_request("max_age must be a non-negative integer")
            })
        })
        .transpose()
}

/// Rule 11: an `id_token_hint` must be an ID token we issued (it may have expired).
pub fn check_id_token_hint(
    app: &App,
    client: &Client,
    p: &Params,
) -> Result<Option<String>, OAuthError> {
    let Some(hint) = p.get("id_token_hint") else {
        return Ok(None);
    };
    let claims = crate::oauth::tokens::verify_own_id_token(app, hint).map_err(|_| {
        OAuthError::invalid_request("id_token_hint is not a valid ID token of this issuer")
    })?;
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == &client.id,
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(&client.id)),
        _ => false,
    };
    if !aud_ok {
        return Err(OAuthError::invalid_request(
            "id_token_hint was issued to another client",
        ));
    }
    // The account the hint names: its `sub` is the one the client knows (pairwise or not).
    match claims.get("sub").and_then(|s| s.as_str()) {
        None => Ok(None),
        Some(sub) => app.account_of(client, sub).map(Some).ok_or_else(|| {
            OAuthError::invalid_request("id_token_hint names no account known to this client")
        }),
    }
}
