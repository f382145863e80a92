//! `POST /api/signer/v1/requests` (multipart/form-data, RFC 7578): one `request` part holding
//! JSON and 1–20 file parts with file names.
//!
//! Rules: each file at most [`MAX_DOCUMENT`] bytes (checked while it streams in) and of a type
//! recognised by its content ([`super::detect`]); PAdES only for PDFs; `expires_in` between a
//! minute and [`MAX_EXPIRES_IN`]; a webhook URL is absolute http(s). A refusal names the file.

use super::auth::caller;
use super::detect::{detect, DocType};
use super::store::{NewDocument, NewRequest};
use super::{
    hex, read, set_digest, Format, Level, DEFAULT_EXPIRES_IN, MAX_DOCUMENT, MAX_DOCUMENTS,
    MAX_EXPIRES_IN,
};
use crate::http::problem;
use crate::Signer;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The `request` part.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestPart {
    /// The account that is to sign (the `sub` of the client's ID token).
    sub: String,
    format: Format,
    level: Level,
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

fn bad(detail: &str) -> Response {
    problem(StatusCode::BAD_REQUEST, "Bad Request", detail)
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "signing request not stored");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "the request could not be stored; try again later",
    )
}

/// Reads the multipart body: the request part and the files, each within its limit.
async fn read_parts(
    mut form: Multipart,
) -> Result<(Option<RequestPart>, Vec<NewDocument>), Response> {
    let mut request = None;
    let mut docs = Vec::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(problem(
                    e.status(),
                    "Bad Request",
                    &format!("the multipart body is malformed: {}", e.body_text()),
                ))
            }
        };
        let part = field.name().unwrap_or("").to_owned();
        if part == "request" && field.file_name().is_none() {
            if request.is_some() {
                return Err(bad("the request part is given twice"));
            }
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad("the request part could not be read"))?;
            let parsed: RequestPart = serde_json::from_slice(&bytes)
                .map_err(|e| bad(&format!("the request part is not valid: {e}")))?;
            request = Some(parsed);
            continue;
        }
        let Some(name) = field.file_name().map(str::to_owned) else {
            return Err(bad(&format!(
                "part \"{part}\" is neither the request nor a file with a file name"
            )));
        };
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
            return Err(bad(
                "a file name is empty, too long or holds control characters",
            ));
        }
        if docs.len() == MAX_DOCUMENTS {
            return Err(bad(&format!(
                "at most {MAX_DOCUMENTS} documents may be sent in one request"
            )));
        }
        let mut content = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    if content.len() + c.len() > MAX_DOCUMENT {
                        return Err(problem(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "Content Too Large",
                            &format!("\"{name}\" is larger than 10 MB ({MAX_DOCUMENT} bytes)"),
                        ));
                    }
                    content.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(problem(
                        e.status(),
                        "Bad Request",
                        &format!("\"{name}\" could not be read: {}", e.body_text()),
                    ))
                }
            }
        }
        let doc_type = detect(&content).map_err(|why| {
            problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                &format!("\"{name}\" {why}"),
            )
        })?;
        let sha256 = hex(&Sha256::digest(&content));
        docs.push(NewDocument {
            name,
            media_type: doc_type.media_type(),
            content,
            sha256,
        });
    }
    Ok((request, docs))
}

fn webhook_ok(url: &str) -> bool {
    let ok = url::Url::parse(url)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    ok && url.len() <= 2048
}

pub(super) async fn create(
    State(s): State<Arc<Signer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let who = match caller(&s, &method, &uri, &headers).await {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (request, docs) = match read_parts(form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(req) = request else {
        return bad("the request part (JSON) is missing");
    };
    if docs.is_empty() {
        return bad("at least one document is required");
    }
    let sub = req.sub.trim();
    if sub.is_empty() || sub.len() > 255 {
        return bad("sub must name the account that is to sign");
    }
    // The `sub` this client was told, which for a pairwise client is not the account's id.
    let account_id = match s.subjects.account(&who.client_id, sub).await {
        Ok(Some(a)) => a,
        Ok(None) => return bad("sub names no account this client knows"),
        Err(e) => return unavailable(&e),
    };
    if req.format == Format::Pades {
        if let Some(d) = docs
            .iter()
            .find(|d| d.media_type != DocType::Pdf.media_type())
        {
            return bad(&format!(
                "\"{}\" is not a PDF: the pades format signs PDF documents only",
                d.name
            ));
        }
    }
    let expires_in = req.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    if !(60..=MAX_EXPIRES_IN).contains(&expires_in) {
        return bad(&format!(
            "expires_in must be between 60 and {MAX_EXPIRES_IN} seconds"
        ));
    }
    if let Some(u) = &req.webhook_url {
        if !webhook_ok(u) {
            return bad("webhook_url must be an absolute http or https URL");
        }
        if !s.webhooks.allow_private_networks && super::webhook_net::literal_not_public(u) {
            return bad("webhook_url must not point to a loopback, private or link-local address");
        }
    }
    let id = format!("sr_{}", super::signing::random_id());
    let digest = set_digest(docs.iter().map(|d| d.sha256.as_str()));
    let now = s.clock.now();
    let new = NewRequest {
        id: &id,
        client_id: &who.client_id,
        account_id: &account_id,
        format: req.format,
        level: req.level,
        webhook_url: req.webhook_url.as_deref(),
        set_digest: &digest,
        created_at: now,
        expires_at: now.saturating_add(expires_in),
    };
    if let Err(e) = s.insert_request(&new, &docs).await {
        return unavailable(&e);
    }
    match s.request(&id).await {
        Ok(Some(r)) => {
            let mut resp = (StatusCode::CREATED, read::json(&s, &r, sub)).into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(
                &s.url(&format!("{}/requests/{id}", super::API_BASE)),
            ) {
                resp.headers_mut().insert(axum::http::header::LOCATION, v);
            }
            resp
        }
        Ok(None) => unavailable(&"the request vanished after insert"),
        Err(e) => unavailable(&e),
    }
}
