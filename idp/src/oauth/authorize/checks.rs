//! The authorization endpoint's rules, run in order by `authorize::handle`.
//!
//! RFC 6749 §3.1.2.4 and §4.1.2.1: until the client and its redirect URI are verified,
//! errors are shown to the person and never redirected. OIDC Core §3.1.2.2 for the rest;
//! RFC 7636 for PKCE (S256 only, required of every client).

use super::request::AuthRequest;
use crate::app::App;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::{split_list, Prompt, ResponseMode};
use crate::store::Client;
use std::sync::Arc;

/// Scopes this provider understands; others are ignored (OIDC Core §3.1.2.1).
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Why the request cannot go back to the client: the person sees a page.
#[derive(Debug)]
pub enum PageError {
    /// `client_id` missing, duplicated or unknown.
    UnknownClient,
    /// `redirect_uri` missing, duplicated or not registered exactly.
    BadRedirectUri,
    /// A backend failed.
    Server,
}

/// Rule 1: the client exists.
pub async fn check_client(app: &App, p: &Params) -> Result<Arc<Client>, PageError> {
    if p.duplicates.iter().any(|d| d == "client_id") {
        return Err(PageError::UnknownClient);
    }
    let id = p.get("client_id").ok_or(PageError::UnknownClient)?;
    match app.client(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(PageError::UnknownClient),
        Err(e) => {
            tracing::error!(error = %e, "client lookup failed");
            Err(PageError::Server)
        }
    }
}

/// Rule 2: the redirect URI is one the client registered, compared exactly.
pub fn check_redirect_uri(client: &Client, p: &Params) -> Result<String, PageError> {
    if p.duplicates.iter().any(|d| d == "redirect_uri") {
        return Err(PageError::BadRedirectUri);
    }
    let uri = p.get("redirect_uri").ok_or(PageError::BadRedirectUri)?;
    if client.redirect_uris.iter().any(|r| r == uri) {
        Ok(uri.to_owned())
    } else {
        Err(PageError::BadRedirectUri)
    }
}

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

/// Rule 4: no duplicated or oversized parameters; no request objects.
pub fn check_well_formed(p: &Params) -> Result<(), OAuthError> {
    p.check_well_formed()?;
    if p.has("request") {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
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
    Ok(claims
        .get("sub")
        .and_then(|s| s.as_str())
        .map(str::to_owned))
}

/// Runs rules 4 to 11 once the client and redirect URI are known.
pub fn build(
    app: &App,
    client: &Client,
    redirect_uri: String,
    mode: ResponseMode,
    p: &Params,
) -> Result<AuthRequest, OAuthError> {
    check_well_formed(p)?;
    check_response_type(client, p)?;
    let scope = check_scope(client, p)?;
    let code_challenge = check_pkce(p)?;
    let prompt = check_prompt(p)?;
    let max_age = check_max_age(p)?;
    let claims = check_claims(p)?;
    let hint_sub = check_id_token_hint(app, client, p)?;
    Ok(AuthRequest {
        client_id: client.id.clone(),
        redirect_uri,
        response_mode: mode,
        scope,
        state: p.get("state").map(str::to_owned),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: p.get("login_hint").map(|s| s.chars().take(256).collect()),
        ui_locales: split_list(p.get("ui_locales").unwrap_or("")),
        acr_values: split_list(p.get("acr_values").unwrap_or("")),
        claims,
        hint_sub,
    })
}
