//! `GET /api/signer/v1/requests/{id}` and `GET .../documents/{n}/signature`: only for the client
//! that created the request; anyone else gets 404, so request ids cannot be probed.

use super::auth::caller;
use super::store::{RequestInfo, Status};
use super::API_BASE;
use crate::http::problem;
use crate::Signer;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use std::sync::Arc;

/// The JSON body describing a request, as `POST` and `GET` answer it; `sub` names the signer
/// as the client knows them.
pub(super) fn json(s: &Signer, r: &RequestInfo, sub: &str) -> Response {
    let signed = r.status == Status::Signed;
    let (sig_type, _) = r.format.signature_type();
    let documents: Vec<_> = r
        .documents
        .iter()
        .map(|d| {
            let mut v = json!({
                "n": d.n,
                "name": d.name,
                "media_type": d.media_type,
                "size": d.size,
                "sha256": d.sha256,
            });
            if signed && d.signed {
                v["signature_url"] = json!(s.url(&format!(
                    "{API_BASE}/requests/{}/documents/{}/signature",
                    r.id, d.n
                )));
                v["signature_media_type"] = json!(sig_type);
            }
            v
        })
        .collect();
    let mut body = json!({
        "id": r.id,
        "status": r.status.as_str(),
        "sub": sub,
        "format": r.format.as_str(),
        "level": r.level.as_str(),
        "sign_url": s.url(&format!("/account/sign/{}", r.id)),
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "set_digest": r.set_digest,
        "documents": documents,
    });
    if let Some(u) = &r.webhook_url {
        body["webhook_url"] = json!(u);
    }
    match r.status {
        Status::Signed => body["signed_at"] = json!(r.decided_at),
        Status::Declined => body["declined_at"] = json!(r.decided_at),
        Status::Pending | Status::Expired => {}
    }
    if let (true, Some((serial, der))) = (signed, &r.certificate) {
        body["certificate"] = json!({
            "serial": serial,
            "der": base64::engine::general_purpose::STANDARD.encode(der),
        });
    }
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        "no such signing request for this client",
    )
}

fn unavailable(e: &sqlx::Error) -> Response {
    tracing::error!(error = %e, "signing request lookup failed");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "the request could not be read; try again later",
    )
}

/// The request, when it exists and `client_id` made it.
async fn own_request(
    s: &Signer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    id: &str,
) -> Result<RequestInfo, Response> {
    let who = caller(s, method, uri, headers).await.map_err(|r| *r)?;
    match s.request(id).await {
        Ok(Some(r)) if r.client_id == who.client_id => Ok(r),
        Ok(_) => Err(not_found()),
        Err(e) => Err(unavailable(&e)),
    }
}

pub(super) async fn status(
    State(s): State<Arc<Signer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let r = match own_request(&s, &method, &uri, &headers, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match s.subjects.subject(&r.client_id, &r.account_id).await {
        Ok(sub) => json(&s, &r, &sub),
        Err(e) => {
            tracing::error!(error = %e, "the client's subject identifier not made");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the request could not be read; try again later",
            )
        }
    }
}

pub(super) async fn signature(
    State(s): State<Arc<Signer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let r = match own_request(&s, &method, &uri, &headers, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(doc) = n
        .parse::<i64>()
        .ok()
        .and_then(|n| r.documents.iter().find(|d| d.n == n))
    else {
        return problem(StatusCode::NOT_FOUND, "Not Found", "no such document");
    };
    if r.status != Status::Signed {
        return problem(
            StatusCode::CONFLICT,
            "Conflict",
            &format!("the request is {}, not signed", r.status.as_str()),
        );
    }
    let sig = match s.document_bytes(&id, doc.n).await {
        Ok(Some((_, Some(sig)))) => sig,
        Ok(_) => return problem(StatusCode::NOT_FOUND, "Not Found", "no signature stored"),
        Err(e) => return unavailable(&e),
    };
    let (media_type, suffix) = r.format.signature_type();
    let mut resp = sig.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&format!("{}{suffix}", doc.name))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `attachment` with the file name in both forms of RFC 6266 §4.3: an ASCII fallback and the
/// UTF-8 `filename*` (RFC 8187).
pub fn content_disposition(name: &str) -> String {
    content_disposition_as("attachment", name)
}

/// As [`content_disposition`], with another disposition type (`inline`).
pub fn content_disposition_as(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
