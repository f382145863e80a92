//! OpenID Provider Metadata (OIDC Discovery 1.0 §3, RFC 8414), built once from the route
//! table and the supported enums.

use crate::app::{App, AppState};
use crate::oauth::types::{AuthMethod, GrantType, ResponseMode};
use crate::router::ENDPOINTS;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Assurance levels, lowest first (documented as `acr` values).
pub const ACR_VALUES: &[&str] = &["simplified", "standard", "confirmed"];

/// The metadata document.
pub fn document(app: &App) -> Value {
    let mut m = Map::new();
    m.insert("issuer".into(), app.settings.issuer.clone().into());
    for e in ENDPOINTS {
        if let Some(name) = e.metadata {
            m.insert(name.into(), app.url(e.path).into());
        }
    }
    let auth: Vec<&str> = AuthMethod::ALL.iter().map(|a| a.as_str()).collect();
    let confidential: Vec<&str> = AuthMethod::ALL
        .iter()
        .filter(|a| **a != AuthMethod::None)
        .map(|a| a.as_str())
        .collect();
    let extra = json!({
        "scopes_supported": crate::oauth::authorize::checks::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ResponseMode::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": app.keys.algs().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "userinfo_signing_alg_values_supported": app.keys.algs().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "introspection_endpoint_auth_methods_supported": confidential,
        "introspection_signing_alg_values_supported": app.keys.algs().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "authorization_signing_alg_values_supported": app.keys.algs().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "revocation_endpoint_auth_methods_supported": auth,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": crate::oauth::claims::supported(),
        "claims_parameter_supported": true,
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": crate::oauth::request_object::SIGNING_ALGS,
        // `request_uri` is accepted only as a pushed request's (RFC 9126), never fetched.
        "request_uri_parameter_supported": false,
        "require_pushed_authorization_requests": app.settings.require_par,
        "dpop_signing_alg_values_supported": keys::dpop::ALGS,
        "acr_values_supported": ACR_VALUES,
        "ui_locales_supported": ["ru", "en"],
        "claim_types_supported": ["normal"],
        "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Value::Object(m)
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(app): State<AppState>) -> Response {
    let body = app.discovery_json();
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}
