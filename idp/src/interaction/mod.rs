//! Interactions: where the protocol hands the browser over for login and consent, and
//! resumes afterwards (`/interaction/{id}`). Pages only; no OAuth rules live here beyond
//! "finish by issuing the code the stored request asked for".
//!
//! Every form carries a CSRF token stored with the interaction, and the interaction is bound
//! to the browser that started it by a cookie scoped to its path.

mod consent;
mod factor;
mod login;
pub(crate) use login::{reauthenticate, PasswordCheck};
mod passkey;
mod totp;

pub use consent::{consent, plain_words};
pub use factor::{choose_method, otp, resend, start_step_up};
pub use login::{login, switch_account};
pub use passkey::{passkey, start as passkey_start};
pub use totp::totp;

use crate::app::{App, AppState};
use crate::crypto::{ct_eq, random_token};
use crate::i18n::Lang;
use crate::oauth::authorize::request::AuthRequest;
use crate::oauth::authorize::response;
use crate::oauth::error::OAuthError;
use crate::session::{get_json, Session};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A login/consent in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Interaction {
    /// Random id, in the URL.
    pub id: String,
    /// The request to resume.
    pub request: AuthRequest,
    /// CSRF token every form must echo.
    pub csrf: String,
    /// Value of the browser-binding cookie.
    pub browser: String,
    /// The signed-in session, once there is one.
    pub session: Option<Session>,
    /// Password accepted, second factor still to come.
    #[serde(default)]
    pub pending_mfa: Option<PendingMfa>,
    /// A live session being re-authenticated (`max_age`, `prompt=login`, a client's MFA
    /// rule): the same account signs in again and the session keeps its `sid`.
    #[serde(default)]
    pub reauth: Option<Reauth>,
}

/// The signed-in account a step-up re-authenticates.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reauth {
    /// The live session, updated in place once the account signed in again.
    pub session: Session,
    /// The account's login (the page names it; the password is checked against it).
    pub login: String,
}

/// A sign-in waiting for its second factor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingMfa {
    /// The account whose password was right.
    pub account_id: String,
    /// When the password was checked (the session's `auth_time`).
    pub auth_time: i64,
    /// The factor asked for now (the account's first when absent).
    #[serde(default)]
    pub method: Option<crate::otp_factor::Method>,
}

impl Interaction {
    /// A new interaction for `request`, with `session` if login is not needed.
    pub fn new(request: AuthRequest, session: Option<Session>) -> Interaction {
        Interaction {
            id: random_token(16),
            request,
            csrf: random_token(24),
            browser: random_token(24),
            session,
            pending_mfa: None,
            reauth: None,
        }
    }

    /// The requesting client's display name (empty if it was removed meanwhile).
    async fn client_name(&self, app: &App) -> String {
        match app.client(&self.request.client_id).await {
            Ok(Some(c)) => c.name.clone(),
            _ => String::new(),
        }
    }

    fn lang(&self, headers: &HeaderMap) -> Lang {
        Lang::choose(&self.request.ui_locales, headers)
    }
}

fn key(id: &str) -> String {
    format!("int:{id}")
}

const COOKIE: &str = "vhod_interaction";

/// Stores the interaction and sends the browser to it.
pub async fn start(app: &App, ix: Interaction) -> Result<Response, OAuthError> {
    save(app, &ix).await?;
    let r = response::redirect(&format!("/interaction/{}", ix.id));
    Ok(bind_browser(app, &ix, r))
}

/// Stores the interaction and answers the authorization request with its first page (the
/// login page, or the consent page for a signed-in citizen) at once, instead of a redirect
/// to `/interaction/{id}`: one round trip less for every sign-in. The forms post to
/// `/interaction/{id}/...`, and that page shows the same step again (after a reload of a
/// form's answer, say).
pub async fn start_here(
    app: &App,
    ix: Interaction,
    headers: &HeaderMap,
) -> Result<Response, OAuthError> {
    save(app, &ix).await?;
    let r = current_page(app, &ix, headers).await;
    Ok(bind_browser(app, &ix, r))
}

/// Stores the interaction and sends the browser to the registration it starts with
/// (`prompt=create`).
pub async fn start_registration(app: &App, ix: Interaction) -> Result<Response, OAuthError> {
    save(app, &ix).await?;
    let r = response::redirect(&format!("/interaction/{}/register", ix.id));
    Ok(bind_browser(app, &ix, r))
}

/// `GET /interaction/{id}/register`: a registration that, once the account exists, signs it
/// in and goes on with this interaction (the login page's link, and `prompt=create`). Only
/// the browser that owns the interaction may start it; the registration is then bound to
/// that browser in turn.
pub async fn register(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match load(&app, &id, &headers).await {
        Ok(ix) => crate::register::begin(&app, &headers, Some(ix.id)).await,
        Err(r) => *r,
    }
}

/// The account `account_id` was just registered in a registration started from interaction
/// `id`: signs it in (the password it chose; the address it confirmed) and goes on as a
/// sign-in would, to consent or back to the client. `None` when the interaction is gone
/// (it expired meanwhile): the account stands, and the person signs in anew.
pub(crate) async fn registered(
    app: &App,
    id: &str,
    account_id: &str,
    headers: &HeaderMap,
    ip: &str,
) -> Option<Response> {
    let ix: Interaction = get_json(app.cache.as_ref(), &key(id))
        .await
        .ok()
        .flatten()?;
    let lang = ix.lang(headers);
    let account = match app.db.accounts().get(account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, "new account not read");
            return Some(app.pages.unavailable(lang));
        }
    };
    // A new account has no second factor and the lowest level: a client that demands more
    // gets its error, as after any sign-in.
    if let Some(e) = login::requirements_unmet(app, &ix, &account, false, lang).await {
        return Some(e);
    }
    let now = app.now();
    Some(login::signed_in(app, ix, &account, &["pwd"], now, headers, ip).await)
}

/// Sets the cookie that ties the interaction to this browser (for its own pages only).
fn bind_browser(app: &App, ix: &Interaction, mut r: Response) -> Response {
    let path = format!("/interaction/{}", ix.id);
    if let Some(c) = crate::http::set_cookie(
        COOKIE,
        &ix.browser,
        &path,
        app.settings.interaction_ttl,
        app.settings.secure_cookies,
    ) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

async fn save(app: &App, ix: &Interaction) -> Result<(), OAuthError> {
    let json = serde_json::to_vec(ix).map_err(OAuthError::server)?;
    let ttl = Duration::from_secs(app.settings.interaction_ttl.max(1) as u64);
    app.cache.put(&key(&ix.id), &json, ttl).await?;
    Ok(())
}

/// Loads an interaction the request's browser owns; otherwise the page to show.
async fn load(app: &App, id: &str, headers: &HeaderMap) -> Result<Interaction, Box<Response>> {
    let lang = Lang::choose(&[], headers);
    if id.len() > 64 {
        return Err(Box::new(app.pages.error(
            StatusCode::NOT_FOUND,
            lang,
            "err_expired",
            None,
            None,
        )));
    }
    let ix: Option<Interaction> = match get_json(app.cache.as_ref(), &key(id)).await {
        Ok(ix) => ix,
        Err(e) => {
            tracing::error!(error = %e, "interaction lookup failed");
            return Err(Box::new(app.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "err_server",
                None,
                None,
            )));
        }
    };
    let Some(ix) = ix else {
        return Err(Box::new(app.pages.error(
            StatusCode::NOT_FOUND,
            lang,
            "err_expired",
            None,
            None,
        )));
    };
    let cookie_ok = crate::http::cookie(headers, COOKIE).is_some_and(|c| ct_eq(c, &ix.browser));
    if !cookie_ok {
        return Err(Box::new(app.pages.error(
            StatusCode::FORBIDDEN,
            ix.lang(headers),
            "err_csrf",
            None,
            None,
        )));
    }
    Ok(ix)
}

/// Loads the interaction a form was posted to and checks the form's CSRF token.
async fn load_form(
    app: &App,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Interaction, crate::oauth::params::Params), Box<Response>> {
    let ix = load(app, id, headers).await?;
    let form = crate::oauth::params::Params::parse(body);
    check_csrf(app, &ix, form.get("csrf"), headers)?;
    Ok((ix, form))
}

/// Checks the form's CSRF token.
fn check_csrf(
    app: &App,
    ix: &Interaction,
    form_csrf: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), Box<Response>> {
    if form_csrf.is_some_and(|c| ct_eq(c, &ix.csrf)) {
        Ok(())
    } else {
        Err(Box::new(app.pages.error(
            StatusCode::FORBIDDEN,
            ix.lang(headers),
            "err_csrf",
            None,
            None,
        )))
    }
}

/// `GET /interaction/{id}`: the login page, the second-factor page once the password was
/// right, or the consent page once signed in.
pub async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ix = match load(&app, &id, &headers).await {
        Ok(ix) => ix,
        Err(r) => return *r,
    };
    current_page(&app, &ix, &headers).await
}

/// The page of the interaction's current step.
async fn current_page(app: &App, ix: &Interaction, headers: &HeaderMap) -> Response {
    match (&ix.session, &ix.pending_mfa) {
        (Some(_), _) => consent::page(app, ix, headers).await,
        (None, Some(p)) => match app.db.accounts().get(&p.account_id).await {
            // Passkeys only (no code to ask): straight to the passkey.
            Ok(Some(a)) if p.method.is_none() && a.passkeys > 0 => {
                passkey::page(app, ix, headers, None, StatusCode::OK).await
            }
            _ => factor::page(app, ix, headers, None, StatusCode::OK).await,
        },
        (None, None) => login::page(app, ix, headers, None, StatusCode::OK).await,
    }
}

/// Ends the interaction: issues the code and sends the browser back to the client. `level`:
/// the account's level, when the caller has just read the account.
async fn finish(app: &App, ix: &Interaction, headers: &HeaderMap, level: Option<&str>) -> Response {
    let lang = ix.lang(headers);
    let req = &ix.request;
    // One-time: a replayed final form finds nothing.
    match app.cache.consume(&key(&ix.id)).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return app
                .pages
                .error(StatusCode::NOT_FOUND, lang, "err_expired", None, None)
        }
        Err(e) => return response::error_to(app, req, &OAuthError::from(e), lang).await,
    }
    let Some(s) = &ix.session else {
        return app
            .pages
            .error(StatusCode::BAD_REQUEST, lang, "err_expired", None, None);
    };
    let mut r = match response::issue_code(app, req, s, level, lang).await {
        Ok(r) => r,
        Err(e) => response::error_to(app, req, &e, lang).await,
    };
    let path = format!("/interaction/{}", ix.id);
    if let Some(c) = crate::http::set_cookie(COOKIE, "", &path, 0, app.settings.secure_cookies) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// Renders a page for this interaction.
fn render(
    app: &App,
    ix: &Interaction,
    headers: &HeaderMap,
    status: StatusCode,
    name: &str,
    ctx: minijinja::Value,
) -> Response {
    let base = context! { id => &ix.id, csrf => &ix.csrf };
    app.pages
        .page(status, name, ix.lang(headers), context! { ..base, ..ctx })
}
