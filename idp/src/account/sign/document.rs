//! `GET /account/sign/{id}/documents/{n}`: a document of a signing request, to its account
//! only (the same [`target`] check as the page). Rules: PDFs and images inline for the
//! preview, other types as attachments; always `Content-Disposition`, `nosniff`,
//! `no-store` and a sandboxing CSP, framable only by our own pages.

use super::{target, Need};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use signer::requests::DocType;

/// A preview's CSP: nothing runs, nothing loads, a sandbox; framable by our pages only.
const PREVIEW_CSP: &str = "default-src 'none'; img-src 'self'; object-src 'self'; \
     plugin-types application/pdf; sandbox; frame-ancestors 'self'";

/// `GET /account/sign/{id}/documents/{n}`: the document itself, for the preview (PDF and
/// images inline) or to download (the other types).
pub async fn document(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let t = match target(&app, &headers, &id, &[], Need::View).await {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let (lang, r) = (t.lang, &t.request);
    let Some(doc) = n
        .parse::<i64>()
        .ok()
        .and_then(|n| r.documents.iter().find(|d| d.n == n))
    else {
        return app
            .pages
            .error(StatusCode::NOT_FOUND, lang, "sign_not_found", None, None);
    };
    let content = match app.signer.document_bytes(&id, doc.n).await {
        Ok(Some((c, _))) => c,
        Ok(None) => {
            return app
                .pages
                .error(StatusCode::NOT_FOUND, lang, "sign_not_found", None, None)
        }
        Err(e) => {
            tracing::error!(error = %e, "document lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let kind = DocType::from_media_type(&doc.media_type);
    let inline = matches!(kind, Some(DocType::Pdf | DocType::Png | DocType::Jpeg));
    let media = kind.map_or("application/octet-stream", DocType::media_type);
    let disposition = signer::requests::content_disposition_as(
        if inline { "inline" } else { "attachment" },
        &doc.name,
    );
    let mut resp = content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_CSP),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    resp
}
