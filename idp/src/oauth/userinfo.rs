//! UserInfo endpoint (OIDC Core §5.3), GET and POST.
//!
//! Rules: the access token comes in the `Authorization` header (`Bearer`, or `DPoP` with a
//! proof, RFC 9449 §7), or in a POST form body (RFC 6750 §2.2) — never twice; it must be
//! ours, live and carry `openid`; a DPoP-bound token only counts with a proof of its key made
//! for this request and this token, and a token not bound is refused under `DPoP`; claims
//! are those its scopes release plus any asked for in the `claims` parameter's `userinfo`.

use crate::app::{App, AppState};
use crate::oauth::authorize::request::claim_names;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::tokens::{live_grant, verify_access_token_claims, ValidAccessToken};
use crate::store::Client;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// An access token as a request presented it.
pub struct Presented {
    /// The token.
    pub token: String,
    /// Under the `DPoP` scheme (else `Bearer`, or the form body).
    pub dpop: bool,
}

/// The access token of a request (header, or form body for POST).
pub fn presented(headers: &HeaderMap, body: Option<&[u8]>) -> Result<Presented, OAuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            let dpop = scheme.eq_ignore_ascii_case("dpop");
            (dpop || scheme.eq_ignore_ascii_case("bearer")).then(|| Presented {
                token: rest.trim().to_owned(),
                dpop,
            })
        });
    let from_body = body
        .map(Params::parse)
        .and_then(|p| p.get("access_token").map(str::to_owned));
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent more than once",
        )),
        (Some(p), None) => Ok(p),
        (None, Some(token)) => Ok(Presented { token, dpop: false }),
        (None, None) => {
            let mut e = OAuthError::invalid_token("an access token is required");
            e.description = None;
            Err(e)
        }
    }
}

/// `GET /userinfo`.
pub async fn get(State(app): State<AppState>, headers: HeaderMap) -> Response {
    respond(&app, &headers, "GET", presented(&headers, None)).await
}

/// `POST /userinfo`.
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    respond(&app, &headers, "POST", presented(&headers, Some(&body))).await
}

async fn respond(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    token: Result<Presented, OAuthError>,
) -> Response {
    let dpop = token.as_ref().is_ok_and(|t| t.dpop);
    let answer = match claims(app, headers, method, token).await {
        Ok((claims, client)) => answer(app, &client, claims),
        Err(e) => Err(e),
    };
    let resp = match answer {
        Ok(r) => r,
        Err(mut e) => {
            e.dpop_challenge |= dpop;
            e.into_response()
        }
    };
    crate::oauth::dpop::with_nonce(app, headers, resp)
}

/// The claims as the token's client asked for them at registration: plain JSON, or a JWT
/// signed with its `userinfo_signed_response_alg` (OpenID Connect Core 1.0 §5.3.2).
fn answer(
    app: &App,
    client: &Client,
    claims: serde_json::Map<String, serde_json::Value>,
) -> Result<Response, OAuthError> {
    let Some(alg) = client.userinfo_signed_response_alg.as_deref() else {
        return Ok(crate::http::json_no_store(&claims));
    };
    let jwt = crate::oauth::tokens::userinfo_jwt(app, client, alg, claims)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jwt"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jwt,
    )
        .into_response())
}

/// Checks that a token is presented as its binding demands (RFC 9449 §7.1–7.2).
async fn check_binding(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    p: &Presented,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), OAuthError> {
    let bound = claims
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(|j| j.as_str());
    match (p.dpop, bound) {
        (false, None) => Ok(()),
        (false, Some(_)) => {
            let mut e = OAuthError::invalid_token(
                "the access token is DPoP-bound: present it under the DPoP scheme with a proof",
            );
            e.dpop_challenge = true;
            Err(e)
        }
        (true, None) => Err(OAuthError::invalid_token(
            "the access token is not DPoP-bound: present it as a Bearer token",
        )),
        (true, Some(jkt)) => {
            let url = app.url(crate::router::USERINFO);
            let proven =
                crate::oauth::dpop::check(app, headers, method, &url, Some(&p.token)).await?;
            match proven {
                None => Err(crate::oauth::dpop::invalid("a DPoP proof is required")),
                Some(k) if k == jkt => Ok(()),
                Some(_) => Err(crate::oauth::dpop::invalid(
                    "the DPoP proof is not made with the key the access token is bound to",
                )),
            }
        }
    }
}

/// The claims the token releases, and its client.
async fn claims(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    token: Result<Presented, OAuthError>,
) -> Result<(serde_json::Map<String, serde_json::Value>, Arc<Client>), OAuthError> {
    let token = token?;
    let claims = verify_access_token_claims(app, &token.token).await?;
    // A token for other resource servers (RFC 8707) is not taken here.
    if !keys::jws::audience_includes(claims.get("aud"), &app.settings.issuer) {
        return Err(OAuthError::invalid_token(
            "the access token is for another resource server (aud)",
        ));
    }
    check_binding(app, headers, method, &token, &claims).await?;
    let client_id = claims
        .get("client_id")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let Some(client) = app.client(client_id).await? else {
        return Err(OAuthError::invalid_token("the client no longer exists"));
    };
    // The token's `sub` is the one its client knows: the account's id, or a pairwise one.
    let sub = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .and_then(|s| app.account_of(&client, s))
        .ok_or_else(|| OAuthError::invalid_token("the token's subject is unknown"))?;
    // The grant and the account in one query; a token's grant is always its subject's.
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
    out.insert("sub".into(), app.subject(&client, &account.id).into());
    Ok((out, client))
}
