//! Token introspection (RFC 7662), answered as JSON or, to a caller that accepts
//! `application/token-introspection+jwt`, as a JWT signed with the algorithm it registered
//! (`introspection_signed_response_alg`), RS256 by default (RFC 9701).
//!
//! Rules: the caller authenticates as a confidential client; an unknown, expired or
//! revoked token is `{"active": false}` and nothing more; refresh tokens are only revealed
//! to the client they were issued to.

use crate::app::{App, AppState};
use crate::crypto::sha256_b64;
use crate::oauth::client_auth;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::tokens::verify_access_token;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The media type (and, after `application/`, the JWT `typ`) of a signed answer (RFC 9701 §4).
const JWT_MEDIA_TYPE: &str = "application/token-introspection+jwt";

/// `POST /introspect`.
pub async fn introspect(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&app, &headers, &body).await {
        Ok((v, caller)) if wants_jwt(&headers) => signed(&app, &caller, v),
        Ok((v, _)) => crate::http::json_no_store(&v),
        Err(e) => e.into_response(),
    }
}

/// Whether the caller accepts the signed answer (RFC 9701 §4), not refused with `q=0`.
fn wants_jwt(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case(JWT_MEDIA_TYPE))
                && !parts.any(|p| {
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("q")
                            && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                    })
                })
        })
}

/// The answer as a JWT (RFC 9701 §5): `iss`, `aud` (the resource server that asked), `iat`,
/// and the RFC 7662 answer, unchanged, as `token_introspection`; `typ`
/// `token-introspection+jwt`, so that it cannot pass for an access or ID Token.
fn signed(app: &App, caller: &crate::store::Client, answer: Value) -> Response {
    let claims = json!({
        "iss": app.settings.issuer,
        "aud": caller.id,
        "iat": app.now(),
        "token_introspection": answer,
    });
    let typ = JWT_MEDIA_TYPE.trim_start_matches("application/");
    match keys::sign_jwt(
        &crate::oauth::tokens::signer_of(
            app,
            &caller.id,
            caller.introspection_signed_response_alg.as_deref(),
            "introspection_signed_response_alg",
            Some(keys::Alg::RS256),
        ),
        Some(typ),
        &claims,
    ) {
        Ok(jwt) => (
            [
                (axum::http::header::CONTENT_TYPE, JWT_MEDIA_TYPE),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            jwt,
        )
            .into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// The RFC 7662 answer, and the client that asked.
async fn handle(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Value, std::sync::Arc<crate::store::Client>), OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let client = client_auth::authenticate(app, headers, &p).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "public clients cannot introspect tokens",
        ));
    }
    Ok((answer(app, &p, &client).await?, client))
}

/// What `p`'s token is, as `client` may learn it.
async fn answer(app: &App, p: &Params, client: &crate::store::Client) -> Result<Value, OAuthError> {
    let token = p.require("token")?;
    let hint = p.get("token_type_hint");
    if hint != Some("refresh_token") {
        if let Ok(at) = verify_access_token(app, token).await {
            return Ok(active(at.claims));
        }
    }
    let now = app.now();
    if let Some((g, exp)) = app
        .db
        .grants()
        .refresh_grant(&sha256_b64(token), now)
        .await?
    {
        if g.is_active(now) && g.client_id == client.id {
            return Ok(json!({
                "active": true, "token_type": "refresh_token", "scope": g.scope,
                "client_id": g.client_id, "sub": app.subject(client, &g.account_id), "exp": exp,
                "iat": g.created_at, "iss": app.settings.issuer,
            }));
        }
    }
    if hint == Some("refresh_token") {
        if let Ok(at) = verify_access_token(app, token).await {
            return Ok(active(at.claims));
        }
    }
    Ok(json!({ "active": false }))
}

/// An access token's introspection answer: its claims (a DPoP-bound one's `cnf` among them,
/// RFC 9449 §6.2), `active`, and its `token_type`.
fn active(claims: serde_json::Map<String, Value>) -> Value {
    let bound = claims.contains_key("cnf");
    let mut v = Value::Object(claims);
    v["active"] = true.into();
    v["token_type"] = crate::oauth::token::token_type(bound.then_some("")).into();
    v
}
