//! Pushed authorization requests (RFC 9126).
//!
//! A client posts its authorization request to `/par`, authenticated as at the token
//! endpoint, and gets back a `request_uri` that stands for it. The browser then carries only
//! `client_id` and that `request_uri` to the authorization endpoint: the parameters cannot be
//! read or altered on the way, and a request that is wrong is refused to the client at once
//! instead of showing an error page to a person.
//!
//! - The pushed request is checked by the same rules as at the authorization endpoint
//!   (redirect URI matched exactly, PKCE S256, scope, prompt, claims...).
//! - Only the authorization request's own parameters are kept (never the client's
//!   credentials), in the shared cache, for [`Settings::par_ttl`](crate::app::Settings)
//!   seconds (60 by default, as node-oidc-provider and Keycloak).
//! - A `request_uri` is used once (§4 "SHOULD"): the authorization endpoint takes it out of
//!   the cache atomically, so two loads of the same URL, on one node or two, cannot both
//!   start a sign-in.
//! - A client registered with `require_pushed_authorization_requests` can start a sign-in
//!   only this way (§6).
//! - A Request Object (`request`, §3; OIDC Core §6.1) in the push is applied first, as at
//!   the authorization endpoint ([`crate::oauth::request_object`]).

use crate::app::{App, AppState};
use crate::oauth::authorize::checks::{self, PageError};
use crate::oauth::client_auth;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::time::Duration;

/// The prefix of every `request_uri` this server hands out (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The authorization request parameters a push may carry and the authorization endpoint
/// reads. Anything else (unknown parameters, the client's credentials) is not stored.
const KEPT: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "acr_values",
    "ui_locales",
    "claims",
    "dpop_jkt",
    crate::oauth::params::RESOURCE,
];

fn cache_key(reference: &str) -> String {
    format!("par:{reference}")
}

/// `POST /par`.
pub async fn push(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let resp = match handle(&app, &headers, &body).await {
        Ok(request_uri) => {
            let body = serde_json::json!({
                "request_uri": request_uri,
                "expires_in": app.settings.par_ttl,
            });
            let mut r = (StatusCode::CREATED, body.to_string()).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => e.into_response(),
    };
    crate::oauth::dpop::with_nonce(&app, &headers, resp)
}

async fn handle(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<String, OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let client = client_auth::authenticate(app, headers, &p).await?;
    // §2.1: the push is the request; it cannot point at another one.
    if p.has("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed",
        ));
    }
    if p.get("client_id").is_some_and(|id| id != client.id) {
        return Err(OAuthError::invalid_request(
            "client_id does not match the authenticated client",
        ));
    }
    // §3: a Request Object in the push is applied as at the authorization endpoint.
    let must_be_signed = client.require_signed_request_object;
    let p = crate::oauth::request_object::apply(app, &client, &p, must_be_signed).await?;
    let redirect_uri = checks::check_redirect_uri(&client, &p).map_err(|e| match e {
        PageError::Server => OAuthError::server("redirect URI check failed"),
        _ => OAuthError::invalid_request(
            "redirect_uri is missing or is not registered for this client",
        ),
    })?;
    let mode = checks::check_response_mode(&p).map_err(|(_, e)| e)?;
    // Every rule the authorization endpoint applies once the redirect URI is known.
    checks::build(app, &client, redirect_uri, mode, &p)?;
    let mut kept: HashMap<String, String> = KEPT
        .iter()
        .filter_map(|k| p.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect();
    kept.insert("client_id".into(), client.id.clone());
    // RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its key, as
    // `dpop_jkt` does; sent together, they must name the same key.
    let url = app.url(crate::router::PAR);
    if let Some(jkt) = crate::oauth::dpop::check(app, headers, "POST", &url, None).await? {
        if kept.get("dpop_jkt").is_some_and(|given| *given != jkt) {
            return Err(crate::oauth::dpop::invalid(
                "dpop_jkt does not name the key of the DPoP proof",
            ));
        }
        kept.insert("dpop_jkt".into(), jkt);
    }
    // A good push from a client over its limit stores nothing (RFC 9126 §2.3: 429).
    if let Some(wait) = crate::oauth::limit::pushed(app, &client.id).await? {
        return Err(OAuthError::too_many(
            wait,
            crate::oauth::limit::pushed_description(wait),
        ));
    }
    let stored = serde_json::to_vec(&kept).map_err(OAuthError::server)?;
    let reference = crate::crypto::random_token(32);
    let ttl = Duration::from_secs(u64::try_from(app.settings.par_ttl).unwrap_or(60));
    app.cache.put(&cache_key(&reference), &stored, ttl).await?;
    Ok(format!("{REQUEST_URI_PREFIX}{reference}"))
}

/// Why a `request_uri` at the authorization endpoint led nowhere.
#[derive(Debug)]
pub enum Unresolved {
    /// Not one of ours, expired, used already, or pushed by another client.
    Invalid,
    /// The shared cache failed.
    Server,
}

/// The pushed request a `request_uri` at the authorization endpoint stands for, taken out
/// of the cache (one use). §4: the request's `client_id` must be the one that pushed it;
/// every other parameter sent beside `request_uri` is ignored.
pub async fn resolve(app: &App, p: &Params) -> Result<Params, Unresolved> {
    if !p.duplicates.is_empty() || !p.oversized.is_empty() {
        return Err(Unresolved::Invalid);
    }
    let (Some(uri), Some(client_id)) = (p.get("request_uri"), p.get("client_id")) else {
        return Err(Unresolved::Invalid);
    };
    let Some(reference) = uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Err(Unresolved::Invalid);
    };
    // Ours are 43 base64url characters; anything else is not worth a cache round trip.
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if reference.len() > 64 || !reference.bytes().all(base64url) {
        return Err(Unresolved::Invalid);
    }
    let key = cache_key(reference);
    let read = |r: Result<Option<Vec<u8>>, crate::cache::CacheError>| match r {
        Ok(Some(stored)) => serde_json::from_slice::<HashMap<String, String>>(&stored)
            .map(Params::from_map)
            .map_err(|e| {
                tracing::error!(error = %e, "stored pushed request unreadable");
                Unresolved::Server
            }),
        Ok(None) => Err(Unresolved::Invalid),
        Err(e) => {
            tracing::error!(error = %e, "pushed request lookup failed");
            Err(Unresolved::Server)
        }
    };
    // Another client presenting the reference (it would have to have stolen it) is refused
    // without using it up; then the one use is taken atomically.
    if read(app.cache.get(&key).await)?.get("client_id") != Some(client_id) {
        return Err(Unresolved::Invalid);
    }
    read(app.cache.consume(&key).await)
}
