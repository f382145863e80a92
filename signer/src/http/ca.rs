//! The CA's public endpoints, at the URLs its certificates name (`CaSettings::base_url`,
//! by default `{issuer}/ca`):
//!
//! - `GET /ca/root.crt`, `/ca/root.pem`, `/ca/issuing.crt`, `/ca/tsa.crt`, `/ca/ocsp.crt`: the
//!   certificates (DER `application/pkix-cert`, RFC 2585; the root also as PEM);
//! - `GET /ca/crl`: the current CRL (`application/pkix-crl`, RFC 5280 §5);
//! - `POST /ca/ocsp` (`application/ocsp-request`) and `GET /ca/ocsp/{base64}`: OCSP (RFC 6960
//!   §A.1);
//! - `POST /ca/tsa` (`application/timestamp-query`): time stamps (RFC 3161 §3.4).

use super::{binary, problem};
use crate::Signer;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use std::sync::Arc;

type S = State<Arc<Signer>>;

/// Certificates change only when the CA is re-created: a day of caching is safe.
const CERT_MAX_AGE: u32 = 86400;

pub(super) fn routes() -> Router<Arc<Signer>> {
    Router::new()
        .route("/ca/root.crt", get(root))
        .route("/ca/root.pem", get(root_pem))
        .route("/ca/issuing.crt", get(issuing))
        .route("/ca/tsa.crt", get(tsa_cert))
        .route("/ca/ocsp.crt", get(ocsp_cert))
        .route("/ca/crl", get(crl))
        .route("/ca/ocsp", post(ocsp_post))
        .route("/ca/ocsp/{*request}", get(ocsp_get))
        .route("/ca/tsa", post(tsa))
}

const CERT: &str = "application/pkix-cert";

async fn root(State(s): S) -> Response {
    binary(s.ca.root_der().to_vec(), CERT, CERT_MAX_AGE)
}

async fn root_pem(State(s): S) -> Response {
    binary(
        keys::ca::cert_pem(s.ca.root_der()).into_bytes(),
        "application/x-pem-file",
        CERT_MAX_AGE,
    )
}

async fn issuing(State(s): S) -> Response {
    binary(s.ca.issuing_der().to_vec(), CERT, CERT_MAX_AGE)
}

async fn tsa_cert(State(s): S) -> Response {
    binary(s.ca.tsa_der().to_vec(), CERT, CERT_MAX_AGE)
}

async fn ocsp_cert(State(s): S) -> Response {
    binary(s.ca.ocsp_der().to_vec(), CERT, CERT_MAX_AGE)
}

async fn crl(State(s): S) -> Response {
    match s.ca.crl_der().await {
        // Relying parties cache it until nextUpdate anyway; a minute keeps revocations prompt.
        Ok(der) => binary(der, "application/pkix-crl", 60),
        Err(e) => {
            tracing::error!(error = %e, "CRL not produced");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the CRL cannot be produced right now; try again later",
            )
        }
    }
}

/// Whether the request says it carries `want` (parameters such as a charset are ignored).
fn has_type(headers: &HeaderMap, want: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
}

fn wrong_type(want: &str) -> Response {
    problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported Media Type",
        &format!("the request body must be {want}"),
    )
}

async fn ocsp_post(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    if !has_type(&headers, "application/ocsp-request") {
        return wrong_type("application/ocsp-request");
    }
    binary(
        s.ca.ocsp_respond(&body).await,
        "application/ocsp-response",
        0,
    )
}

async fn ocsp_get(State(s): S, Path(request): Path<String>) -> Response {
    // RFC 6960 §A.1: the DER request, base64-encoded and then URL-encoded (the path extractor
    // has undone the latter). A malformed one still gets an OCSP answer (malformedRequest).
    let der = base64::engine::general_purpose::STANDARD
        .decode(request.trim_start_matches('/'))
        .unwrap_or_default();
    binary(
        s.ca.ocsp_respond(&der).await,
        "application/ocsp-response",
        0,
    )
}

async fn tsa(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    if !has_type(&headers, "application/timestamp-query") {
        return wrong_type("application/timestamp-query");
    }
    binary(
        s.ca.timestamp(&body).await,
        "application/timestamp-reply",
        0,
    )
}
