//! UserInfo endpoint (OIDC Core §5.3), GET and POST.
//!
//! Rules: the access token comes in the `Authorization: Bearer` header, or in a POST form
//! body (RFC 6750 §2.2) — never both; it must be ours, live and carry `openid`; claims are
//! those its scopes release plus any asked for in the `claims` parameter's `userinfo`.

use crate::app::{App, AppState};
use crate::oauth::authorize::request::claim_names;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::tokens::{live_grant, verify_access_token_claims, ValidAccessToken};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

/// The bearer token of a request (header, or form body for POST).
pub fn bearer(headers: &HeaderMap, body: Option<&[u8]>) -> Result<String, OAuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        });
    let from_body = body
        .map(Params::parse)
        .and_then(|p| p.get("access_token").map(str::to_owned));
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent more than once",
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => {
            let mut e = OAuthError::invalid_token("an access token is required");
            e.description = None;
            Err(e)
        }
    }
}

/// `GET /userinfo`.
pub async fn get(State(app): State<AppState>, headers: HeaderMap) -> Response {
    respond(&app, bearer(&headers, None)).await
}

/// `POST /userinfo`.
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    respond(&app, bearer(&headers, Some(&body))).await
}

async fn respond(app: &App, token: Result<String, OAuthError>) -> Response {
    match claims(app, token).await {
        Ok(v) => crate::http::json_no_store(&v),
        Err(e) => e.into_response(),
    }
}

async fn claims(
    app: &App,
    token: Result<String, OAuthError>,
) -> Result<serde_json::Value, OAuthError> {
    let claims = verify_access_token_claims(app, &token?).await?;
    // The grant and the account in one query; a token's grant is always its subject's.
    let sub = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let (account, grant) = match claims.get("gid").and_then(|v| v.as_str()) {
        Some(gid) => match app.db.accounts().get_with_grant(&sub, gid).await? {
            Some((account, grant)) => (Some(account), Some(live_grant(grant, app.now())?)),
            // No account: its grants went with it.
            None => return Err(OAuthError::invalid_token("the token was revoked")),
        },
        None => (None, None),
    };
    let at = ValidAccessToken { claims, grant };
    let scopes = at.scopes();
    if !scopes.contains(&"openid") {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the token lacks the openid scope",
        ));
    }
    let account = match account {
        Some(a) => a,
        None => app
            .db
            .accounts()
            .get(&sub)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the account no longer exists"))?,
    };
    let claims_request = at
        .grant
        .as_ref()
        .and_then(|g| serde_json::from_str::<serde_json::Value>(&g.claims).ok());
    let requested = claim_names(claims_request.as_ref(), Some("userinfo"));
    let mut out = crate::oauth::claims::for_account(&account, &scopes, &requested);
    out.insert("sub".into(), account.id.into());
    Ok(serde_json::Value::Object(out))
}
