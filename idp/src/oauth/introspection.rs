//! Token introspection (RFC 7662).
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

/// `POST /introspect`.
pub async fn introspect(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&app, &headers, &body).await {
        Ok(v) => crate::http::json_no_store(&v),
        Err(e) => e.into_response(),
    }
}

async fn handle(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let client = client_auth::authenticate(app, headers, &p).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "public clients cannot introspect tokens",
        ));
    }
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
                "client_id": g.client_id, "sub": g.account_id, "exp": exp,
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
