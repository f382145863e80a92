//! `GET /api/signer/v1/openapi.json`: the OpenAPI 3.1 description of this API. Kept as a
//! document beside the code; a test checks that it parses and lists every route of [`ROUTES`].
//!
//! [`ROUTES`]: super::ROUTES

use crate::Signer;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The document, with `{issuer}` where the server URL goes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub(super) async fn document(State(s): State<Arc<Signer>>) -> Response {
    let body = OPENAPI.replace("{issuer}", &s.issuer);
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
