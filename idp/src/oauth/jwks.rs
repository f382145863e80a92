//! JWKS endpoint (RFC 7517 §5): every published key — pending, active and retired-but-live.

use crate::app::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// `GET /jwks`.
pub async fn jwks(State(app): State<AppState>) -> Response {
    let body = app.keys.jwks_json();
    let mut r = body.to_string().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}
