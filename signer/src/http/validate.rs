//! `POST /api/signer/v1/validate`: the validation report (ETSI EN 319 102-1 indications) of a
//! signed document, for anyone (no token).
//!
//! - the body is `multipart/form-data` with a `document` part and an optional detached
//!   `signature` part, or the signed file itself with its media type: `application/pdf`
//!   (a signed PDF), `application/pkcs7-mime` or `application/cms` (an attached CMS), or
//!   `application/octet-stream` (recognised by content);
//! - a document over 10 MiB or a signature over 1 MiB is refused with 413; another media type
//!   with 415; broken multipart framing with 400 (all `application/problem+json`);
//! - whatever the files hold, the answer is 200 with a report: unreadable input is
//!   `TOTAL_FAILED` / `FORMAT_FAILURE`, never an HTTP error;
//! - each client address may ask [`PER_WINDOW`] times per minute (counted on every node);
//!   over that, 429 with `Retry-After`.

use super::problem;
use super::upload::{self, UploadError};
use crate::validate::Input;
use crate::{Signer, MAX_DOCUMENT};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The path.
pub const PATH: &str = "/api/signer/v1/validate";
/// Validations one client address may ask for per [`WINDOW`], API and page together.
pub const PER_WINDOW: u64 = 30;
/// The rate-limit window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The rate-limit bucket shared by the API and the page.
pub const BUCKET: &str = "validate";

/// Why a validation request is turned away before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client is over [`PER_WINDOW`] in this [`WINDOW`].
    TooMany,
    /// The counter could not be kept (the shared cache is down).
    Unavailable,
}

impl Refusal {
    /// The problem document the API answers with.
    pub fn problem(self) -> Response {
        match self {
            Refusal::TooMany => {
                let mut r = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests",
                    &format!(
                        "at most {PER_WINDOW} validations a minute from one address; try again later"
                    ),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(WINDOW.as_secs()));
                r
            }
            Refusal::Unavailable => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "validation is unavailable for a moment; try again",
            ),
        }
    }
}

/// The peer address of `req` (unspecified when the server was not started with connect
/// info).
pub fn peer(req: &Request) -> SocketAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0)
}

/// Counts one validation by the client at `peer` (or the one a trusted proxy names in
/// `headers`); the API and the page share the count.
pub async fn admit(s: &Signer, peer: SocketAddr, headers: &HeaderMap) -> Result<(), Refusal> {
    match s
        .limiter
        .allow(BUCKET, PER_WINDOW, WINDOW, peer, headers)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::TooMany),
        Err(e) => {
            tracing::error!(error = %e, "validation rate limit failed");
            Err(Refusal::Unavailable)
        }
    }
}

pub(super) async fn validate(State(s): State<Arc<Signer>>, req: Request) -> Response {
    let headers = req.headers().clone();
    if let Err(r) = admit(&s, peer(&req), &headers).await {
        return r.problem();
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let refused = |e: UploadError| {
        let status = e.status();
        problem(
            status,
            status.canonical_reason().unwrap_or("Error"),
            &e.to_string(),
        )
    };
    if media == "multipart/form-data" {
        let upload = match Multipart::from_request(req, &()).await {
            Ok(m) => upload::read(m).await,
            Err(e) => Err(UploadError::Malformed(e.body_text())),
        };
        let upload = match upload {
            Ok(u) => u,
            Err(e) => return refused(e),
        };
        let Some(document) = upload.document else {
            return refused(UploadError::Malformed(
                "the form has no document part".into(),
            ));
        };
        let signature = upload.signature.as_deref();
        return report(&s, Input::detect(&document, signature)).await;
    }
    let kind = match media.as_str() {
        "application/pdf" => Kind::Pdf,
        "application/pkcs7-mime" | "application/cms" => Kind::Cms,
        "application/octet-stream" => Kind::Detect,
        other => {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                &format!(
                    "{other} is not accepted: send multipart/form-data (document, signature), \
                     application/pdf, application/pkcs7-mime or application/octet-stream"
                ),
            )
        }
    };
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) if b.len() <= MAX_DOCUMENT => b,
        Ok(_) => return refused(too_large()),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return refused(too_large()),
        Err(e) => return refused(UploadError::Malformed(e.body_text())),
    };
    let input = match kind {
        Kind::Pdf => Input::Pdf { bytes: &body },
        Kind::Cms => Input::Attached { cms: &body },
        Kind::Detect => Input::detect(&body, None),
    };
    report(&s, input).await
}

enum Kind {
    Pdf,
    Cms,
    Detect,
}

fn too_large() -> UploadError {
    UploadError::TooLarge(format!("the document is larger than {MAX_DOCUMENT} bytes"))
}

async fn report(s: &Signer, input: Input<'_>) -> Response {
    match s.validate(input).await {
        Ok(report) => {
            let mut r = serde_json::to_vec(&report)
                .unwrap_or_default()
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "validation policy unavailable");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "validation is unavailable for a moment; try again",
            )
        }
    }
}
