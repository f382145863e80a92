//! Authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1.1), GET and POST.
//!
//! The rules run in this order (see `checks`): client, redirect URI, response mode, then —
//! errors now go back to the client — well-formedness, response type, scope, PKCE, prompt,
//! max_age, claims, id_token_hint. Then the session decides: answer at once (SSO), fail
//! `prompt=none`, or hand the browser to an interaction for login and consent.

mod check_claims;
mod check_client;
mod check_pkce;
mod check_prompt;
mod check_response;
mod check_scope;
mod check_well_formed;
pub mod checks;
pub mod request;
pub mod response;

use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::interaction::{self, Interaction};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::{split_list, Prompt};
use crate::session::{self, Session};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use checks::PageError;
use request::AuthRequest;

/// `GET /authorize`.
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    handle(&app, Params::from_query(q.as_deref()), &headers).await
}

/// `POST /authorize` (form-encoded body).
pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&app, Params::parse(&body), &headers).await
}

async fn handle(app: &App, p: Params, headers: &HeaderMap) -> Response {
    let lang = Lang::choose(&split_list(p.get("ui_locales").unwrap_or("")), headers);
    let client = match checks::check_client(app, &p).await {
        Ok(c) => c,
        Err(e) => return page_error(app, lang, e),
    };
    let redirect_uri = match checks::check_redirect_uri(&client, &p) {
        Ok(u) => u,
        Err(e) => return page_error(app, lang, e),
    };
    let state = p.get("state");
    let mode = match checks::check_response_mode(&p) {
        Ok(m) => m,
        Err((m, e)) => return response::error(app, m, &redirect_uri, &e, state, lang),
    };
    let req = match checks::build(app, &client, redirect_uri.clone(), mode, &p) {
        Ok(r) => r,
        Err(e) => return response::error(app, mode, &redirect_uri, &e, state, lang),
    };
    match decide(app, &req, headers, lang).await {
        Ok(r) => r,
        Err(e) => response::error(app, mode, &redirect_uri, &e, state, lang),
    }
}

fn page_error(app: &App, lang: Lang, e: PageError) -> Response {
    let (key, code) = match e {
        PageError::UnknownClient => ("err_unknown_client", "invalid_client"),
        PageError::BadRedirectUri => ("err_bad_redirect", "invalid_redirect_uri"),
        PageError::Server => ("err_server", "server_error"),
    };
    let status = if matches!(e, PageError::Server) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    app.pages.error(status, lang, key, Some(code), None)
}

/// Whether the session may answer without showing the login page.
fn session_fits(app: &App, req: &AuthRequest, s: &Session) -> bool {
    let now = app.now();
    !(req.prompts(Prompt::Login)
        || req.prompts(Prompt::SelectAccount)
        || req.max_age.is_some_and(|m| now - s.auth_time >= m)
        || req.hint_sub.as_ref().is_some_and(|h| h != &s.account_id))
}

/// Whether the account still has to consent to what the request asks.
pub async fn needs_consent(
    app: &App,
    req: &AuthRequest,
    account_id: &str,
) -> Result<bool, OAuthError> {
    if req.prompts(Prompt::Consent) {
        return Ok(true);
    }
    // The account area is the provider itself: nothing to consent to.
    if req.client_id == crate::account::CLIENT_ID {
        return Ok(false);
    }
    let remembered = app.db.consents().get(account_id, &req.client_id).await?;
    Ok(!remembered.is_some_and(|c| c.covers(&req.scope, &req.claim_names(None))))
}

async fn decide(
    app: &App,
    req: &AuthRequest,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Response, OAuthError> {
    let current = session::current(app, headers).await?;
    let usable = current.filter(|s| session_fits(app, req, s));
    if req.prompts(Prompt::None) {
        let Some(s) = usable else {
            return Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "the person is not signed in",
            ));
        };
        if needs_consent(app, req, &s.account_id).await? {
            return Err(OAuthError::new(
                ErrorCode::ConsentRequired,
                "consent is required",
            ));
        }
        return response::issue_code(app, req, &s, lang).await;
    }
    if let Some(s) = &usable {
        if !needs_consent(app, req, &s.account_id).await? {
            return response::issue_code(app, req, s, lang).await;
        }
    }
    interaction::start(app, Interaction::new(req.clone(), usable)).await
}
