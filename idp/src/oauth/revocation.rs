//! Token revocation (RFC 7009).
//!
//! Rules: the caller authenticates; revoking a refresh token revokes its whole grant
//! (§2.1: "SHOULD also invalidate all access tokens based on the same authorization
//! grant"); revoking an access token blocks it until it would have expired; a token that is
//! unknown or another client's is answered 200 and left alone (§2.2).

use crate::app::{App, AppState};
use crate::crypto::sha256_b64;
use crate::oauth::client_auth;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::tokens::{revoked_jti_key, verify_access_token};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// `POST /revoke`.
pub async fn revoke(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&app, &headers, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let client = client_auth::authenticate(app, headers, &p).await?;
    let token = p.require("token")?;
    let now = app.now();
    if let Some((g, _)) = app
        .db
        .grants()
        .refresh_grant(&sha256_b64(token), now)
        .await?
    {
        if g.client_id == client.id {
            app.db.grants().revoke(&g.id, now).await?;
        }
        return Ok(());
    }
    if let Ok(at) = verify_access_token(app, token).await {
        if at.str("client_id") == Some(client.id.as_str()) {
            if let Some(jti) = at.str("jti") {
                let exp = at.claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(now);
                let ttl = Duration::from_secs((exp - now).max(1) as u64);
                app.cache.put(&revoked_jti_key(jti), b"1", ttl).await?;
            }
        }
    }
    Ok(())
}
