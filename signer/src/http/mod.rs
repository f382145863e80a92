//! The signer's HTTP surface, merged into the one vhod router: the CA's published files and
//! protocols under `/ca/` (this module's `ca`), the signing-requests API under
//! `/api/signer/v1/` ([`crate::requests`]) and the public validation API ([`validate`]).
//! Everything here answers machines: errors are `application/problem+json` (RFC 9457); the
//! pages people see are rendered by the IdP, which reads uploads with [`upload`].

use crate::Signer;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::Arc;

mod ca;
pub mod upload;
pub mod validate;

/// Every signer route, with its state applied.
pub fn router(s: Arc<Signer>) -> Router {
    Router::new()
        .merge(ca::routes())
        .merge(
            crate::requests::routes()
                .layer(axum::middleware::from_fn_with_state(s.clone(), dpop_nonce)),
        )
        .route(
            validate::PATH,
            post(validate::validate).layer(DefaultBodyLimit::max(upload::MAX_BODY)),
        )
        .with_state(s)
}

/// RFC 9449 §9: every answer of the API to a request that carries a DPoP proof brings a
/// fresh nonce in `DPoP-Nonce`, when the signer uses nonces.
async fn dpop_nonce(
    axum::extract::State(s): axum::extract::State<Arc<Signer>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let proved = req.headers().contains_key("dpop");
    let mut resp = next.run(req).await;
    if let (true, Some(n)) = (proved, &s.dpop_nonces) {
        if let Ok(v) = HeaderValue::from_str(&n.nonces.current(s.clock.now())) {
            resp.headers_mut().insert("dpop-nonce", v);
        }
    }
    resp
}

/// An RFC 9457 problem document.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// Binary content with its media type.
pub(crate) fn binary(body: Vec<u8>, content_type: &'static str, max_age: u32) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let cache = if max_age == 0 {
        HeaderValue::from_static("no-store")
    } else {
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or(HeaderValue::from_static("no-store"))
    };
    r.headers_mut().insert(header::CACHE_CONTROL, cache);
    r
}
