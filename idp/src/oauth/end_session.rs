//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2–3).
//!
//! Rules: a `post_logout_redirect_uri` is used only when it is registered, exactly, for the
//! client named by `id_token_hint` (or `client_id`, which must agree with it); otherwise the
//! person sees a page and is never redirected. With a valid `id_token_hint` for the
//! signed-in person the logout happens at once; otherwise the person confirms it with a
//! CSRF-protected form. `state` is passed back. When clients of the session registered a
//! front-channel logout URI, the person sees a page that loads them before going on
//! ([`frontchannel`]).

use crate::app::{App, AppState};
use crate::crypto::ct_eq;
use crate::i18n::Lang;
use crate::oauth::authorize::response::redirect;
use crate::oauth::frontchannel;
use crate::oauth::params::Params;
use crate::oauth::tokens::verify_own_id_token;
use crate::oauth::types::split_list;
use crate::session;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// `GET /logout`.
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    handle(&app, Params::from_query(q.as_deref()), &headers).await
}

/// `POST /logout`: either an RP's form post or the confirmation form.
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&app, Params::parse(&body), &headers).await
}

async fn handle(app: &App, p: Params, headers: &HeaderMap) -> Response {
    let lang = Lang::choose(&split_list(p.get("ui_locales").unwrap_or("")), headers);
    let bad = |key: &str, detail: &str| {
        app.pages.error(
            StatusCode::BAD_REQUEST,
            lang,
            key,
            Some("invalid_request"),
            Some(detail),
        )
    };
    if p.check_well_formed().is_err() {
        return bad("err_bad_request", "duplicated or oversized parameter");
    }
    let hint = match p.get("id_token_hint").map(|h| verify_own_id_token(app, h)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return bad("err_bad_request", "id_token_hint is not valid"),
    };
    let hint_aud = hint
        .as_ref()
        .and_then(|c| c.get("aud"))
        .and_then(|a| a.as_str().map(str::to_owned));
    let client_id = match (p.get("client_id"), hint_aud.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return bad("err_bad_request", "client_id does not match id_token_hint")
        }
        (Some(a), _) => Some(a.to_owned()),
        (None, b) => b.map(str::to_owned),
    };
    let target = match p.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(cid) = &client_id else {
                return bad(
                    "err_bad_redirect",
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                );
            };
            let client = match app.client(cid).await {
                Ok(Some(c)) => c,
                Ok(None) => return bad("err_unknown_client", "unknown client"),
                Err(_) => {
                    return app.pages.error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        lang,
                        "err_server",
                        None,
                        None,
                    )
                }
            };
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return bad(
                    "err_bad_redirect",
                    "post_logout_redirect_uri is not registered",
                );
            }
            Some(uri.to_owned())
        }
    };
    let current = session::current(app, headers).await.ok().flatten();
    // The hint's `sub` is the one its client knows: the account's id, or a pairwise one.
    let hint_sub = hint
        .as_ref()
        .and_then(|c| c.get("sub"))
        .and_then(|s| s.as_str());
    let hint_account = match (hint_sub, hint_aud.as_deref()) {
        (Some(sub), Some(aud)) => match app.client(aud).await {
            Ok(Some(c)) => app.account_of(&c, sub),
            _ => None,
        },
        _ => None,
    };
    let confirmed = p.get("logout") == Some("yes")
        && session::csrf_for(app, headers)
            .is_some_and(|t| p.get("csrf").is_some_and(|c| ct_eq(c, &t)));
    let silent = match &current {
        None => true,
        Some(s) => hint_account.as_deref() == Some(s.account_id.as_str()),
    };
    if !confirmed && !silent {
        let mut carry: Vec<(&str, String)> = Vec::new();
        for k in [
            "post_logout_redirect_uri",
            "state",
            "client_id",
            "ui_locales",
        ] {
            if let Some(v) = p.get(k) {
                carry.push((k, v.to_owned()));
            }
        }
        if let Some(cid) = &client_id {
            if p.get("client_id").is_none() {
                carry.push(("client_id", cid.clone()));
            }
        }
        let csrf = session::csrf_for(app, headers).unwrap_or_default();
        return app.pages.page(
            StatusCode::OK,
            "logout.html",
            lang,
            context! { done => false, csrf, carry },
        );
    }
    // The clients to load in the front channel, found while the session is still there.
    let frames = match &current {
        Some(s) => frontchannel::frames(app, &s.account_id, &s.sid).await,
        None => Vec::new(),
    };
    let clear = session::end(app, headers).await.ok().flatten();
    let next = target.map(|mut url| {
        if let Some(st) = p.get("state") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", st)
                    .finish(),
            );
        }
        url
    });
    let mut r = match (next, frames.is_empty()) {
        (Some(url), true) => redirect(&url),
        (None, true) => app.pages.page(
            StatusCode::OK,
            "logout.html",
            lang,
            context! { done => true },
        ),
        (next, false) => frontchannel::page(app, lang, &frames, next.as_deref()),
    };
    if let Some(c) = clear {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}
