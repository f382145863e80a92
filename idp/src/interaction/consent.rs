//! The consent step: names the client and lists, in plain words, what it will read.

use super::{finish, load_form, render, Interaction};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::oauth::authorize::response;
use crate::oauth::error::{ErrorCode, OAuthError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// The plain-words lines for what `ix` asks.
fn items(ix: &Interaction, lang: Lang) -> Vec<String> {
    plain_words(&ix.request.scope, &ix.request.claim_names(None), lang)
}

/// Scopes and individually asked claims in plain words (also for the personal account's
/// list of services).
pub fn plain_words(scope: &[String], claims: &[String], lang: Lang) -> Vec<String> {
    let mut out: Vec<String> = scope
        .iter()
        .map(|s| {
            let t = lang.t(&format!("scope_{s}"));
            if t.is_empty() {
                s.clone()
            } else {
                t.to_owned()
            }
        })
        .collect();
    for c in claims {
        out.push(format!("{}: {c}", lang.t("claim")));
    }
    out
}

/// Renders the consent form.
pub(super) async fn page(app: &App, ix: &Interaction, headers: &HeaderMap) -> Response {
    let client_name = ix.client_name(app).await;
    let items = items(ix, ix.lang(headers));
    render(
        app,
        ix,
        headers,
        StatusCode::OK,
        "consent.html",
        context! {
            client_name,
            items,
            device => ix.request.device.is_some(),
            resources => &ix.request.resources,
        },
    )
}

/// `POST /interaction/{id}/consent`: `decision=allow` or `deny`.
pub async fn consent(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (ix, form) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let lang = ix.lang(&headers);
    let req = &ix.request;
    let Some(s) = &ix.session else {
        return app
            .pages
            .error(StatusCode::BAD_REQUEST, lang, "err_expired", None, None);
    };
    if form.get("decision") != Some("allow") {
        let _ = app.cache.delete(&format!("int:{}", ix.id)).await;
        let e = OAuthError::new(ErrorCode::AccessDenied, "the person declined");
        return response::error_to(&app, req, &e, lang).await;
    }
    let claims = req.claim_names(None);
    if let Err(e) = app
        .db
        .consents()
        .grant(
            &s.account_id,
            &req.client_id,
            &req.scope,
            &claims,
            app.now(),
        )
        .await
    {
        return response::error_to(&app, req, &OAuthError::from(e), lang).await;
    }
    finish(&app, &ix, &headers, None).await
}
